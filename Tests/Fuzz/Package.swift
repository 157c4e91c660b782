// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for everything lem reads from disk. A separate package, so the main build
// and `swift test` never see the fuzzer flags. Build and run with Tests/Fuzz/run (see README.md).
// Each harness defines libFuzzer's `LLVMFuzzerTestOneInput` and, as the executable's entry point
// `<Target>_main`, a call to libFuzzer's driver (hence -parse-as-library: no implicit main).
let harness: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
let package = Package(
    name: "lem-fuzz",
    dependencies: [.package(name: "lem", path: "../..")],
    targets: [
        .executableTarget(name: "FuzzCheckpoint", dependencies: [.product(name: "LEMModel", package: "lem")], swiftSettings: harness),
        .executableTarget(name: "FuzzAudio", dependencies: [.product(name: "Audio", package: "lem")], swiftSettings: harness),
        .executableTarget(name: "FuzzText", dependencies: [.product(name: "Text", package: "lem")], swiftSettings: harness),
        .executableTarget(name: "FuzzListFiles", dependencies: [.product(name: "Audio", package: "lem")], swiftSettings: harness),
        .executableTarget(name: "FuzzSequenceData", dependencies: [.product(name: "SequenceModelling", package: "lem")], swiftSettings: harness),
        .executableTarget(name: "FuzzWakeWordFiles", dependencies: [.product(name: "KeywordSpotting", package: "lem"), .product(name: "Audio", package: "lem")],
                          swiftSettings: harness),
    ]
)

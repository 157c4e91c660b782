// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for everything lem reads from disk. A separate package, so the main build
// and `swift test` never see the fuzzer flags. Build and run with Tests/Fuzz/run (see README.md).
let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "lem-fuzz",
    dependencies: [.package(name: "lem", path: "../..")],
    targets: [
        .executableTarget(name: "FuzzCheckpoint", dependencies: [.product(name: "LEMModel", package: "lem")], swiftSettings: fuzzFlags),
    ]
)

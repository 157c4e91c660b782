// swift-tools-version:6.0
import PackageDescription

// Every target is compiled for the build machine's CPU: without it swiftc targets baseline x86-64
// (SSE2), loops vectorise 4-wide and `Float.addingProduct` becomes a libm call
// (docs/SWIFT_NOTES.md §0.2).
let nativeCPU: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=native"])]

let package = Package(
    name: "lem",
    products: [
        .library(name: "Runtime", targets: ["Runtime"]),
        .library(name: "LEMModel", targets: ["LEMModel"]),
        .library(name: "Text", targets: ["Text"]),
        .library(name: "Audio", targets: ["Audio"]),
        .library(name: "TaskSupport", targets: ["TaskSupport"]),
        .library(name: "LanguageModelling", targets: ["LanguageModelling"]),
        .library(name: "KeywordSpotting", targets: ["KeywordSpotting"]),
        .library(name: "SequenceModelling", targets: ["SequenceModelling"]),
        .library(name: "ONNXExport", targets: ["ONNXExport"]),
        .library(name: "ToolSupport", targets: ["ToolSupport"]),
        .executable(name: "lm", targets: ["lm"]),
        .executable(name: "kws", targets: ["kws"]),
        .executable(name: "adding", targets: ["adding"]),
        .executable(name: "seq", targets: ["seq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Reading NumPy's .npz archives (zip files).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // ONNX's protobuf messages (Sources/ONNXExport/Generated, made once by tools/onnx/).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - C libraries (Debian packages; scripts/setup installs them)
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .systemLibrary(name: "CSystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // Our own int8 product kernel (AVX-512 VNNI when the build machine has it, else portable C).
        .target(name: "CInt8", cSettings: [.unsafeFlags(["-march=native", "-O3"])]),
        // libxsmm's JIT kernels for the small per-step products (Debian's libxsmm-dev: a static library).
        .target(name: "CSmallGEMM", linkerSettings: [.linkedLibrary("xsmm"), .linkedLibrary("dl")]),

        // MARK: - The numeric ground: matrix products (OpenBLAS, libxsmm, oneDNN, int8), vectorised
        // math, aligned buffers, the parameter block, threads, the seedable generator, the clock.
        .target(name: "Runtime", dependencies: ["CBLAS", "CDNNL", "CInt8", "CSmallGEMM"], swiftSettings: nativeCPU),
        // MARK: - The shared LEM implementation, in rooms by job (Sources/LEMModel/*/; see its README.md)
        .target(name: "LEMModel", dependencies: ["Runtime", "CSystemZlib", "CMPI"], swiftSettings: nativeCPU),
        // MARK: - Task libraries: each task's data, training task, evaluation, presets and reports,
        // on one shared training run (TaskSupport: the run, charts, default corpora, quantisation).
        .target(name: "TaskSupport", dependencies: ["LEMModel"], swiftSettings: nativeCPU),
        .target(name: "LanguageModelling", dependencies: ["LEMModel", "Text", "TaskSupport", "ONNXExport"], swiftSettings: nativeCPU),
        .target(name: "KeywordSpotting", dependencies: ["LEMModel", "Audio", "TaskSupport", "ONNXExport"], swiftSettings: nativeCPU),
        .target(name: "SequenceModelling", dependencies: ["LEMModel", "TaskSupport", "ONNXExport", "CSystemZlib", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                swiftSettings: nativeCPU),
        // ONNX export of the models (graphs of ONNX operators; the messages generated from onnx.proto).
        .target(name: "ONNXExport", dependencies: ["LEMModel", "TaskSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")], swiftSettings: nativeCPU),
        // What only the command lines share: argument groups, the terminal progress line, the bench
        // runner, error reporting (swift-argument-parser lives here and in the tools only).
        .target(name: "ToolSupport", dependencies: ["LEMModel", "TaskSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: nativeCPU),

        // MARK: - Audio: reading, resampling, MFCC/log-mel features, Speech Commands
        // Resources/speech-embedding.safetensors: Google's speech_embedding weights (Apache-2.0), read
        // once from openWakeWord's wheel by tools/reference/openwakeword/extract_embedding_weights.py.
        .target(name: "Audio", dependencies: ["Runtime", "LEMModel", "CFFTW", "CSndFile", "CSampleRate", "CCrypto"],
                resources: [.copy("Resources/speech-embedding.safetensors"), .copy("Resources/NOTICE.md")], swiftSettings: nativeCPU),

        .executableTarget(
            name: "kws",
            dependencies: ["LEMModel", "Audio", "KeywordSpotting", "TaskSupport", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: nativeCPU),

        // MARK: - Language modelling: text handling and the `lm` tool
        .target(name: "Text", swiftSettings: nativeCPU),
        .executableTarget(
            name: "lm",
            dependencies: ["LEMModel", "Text", "LanguageModelling", "TaskSupport", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: nativeCPU),

        // MARK: - The paper's long-memory experiment (a demonstration: LEM vs LSTM vs GRU)
        .executableTarget(
            name: "adding",
            dependencies: ["LEMModel", "SequenceModelling", "TaskSupport", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: nativeCPU),

        // MARK: - Sequence classification on users' files (the paper's sequence experiments grow here)
        .executableTarget(
            name: "seq",
            dependencies: ["LEMModel", "SequenceModelling", "TaskSupport", "ToolSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: nativeCPU),

        // MARK: - Tests
        // Fixtures/ (safetensors files from tools/reference) are read by path, not as resources.
        .testTarget(name: "LEMModelTests", dependencies: ["LEMModel", "Runtime"], exclude: ["Fixtures"], swiftSettings: nativeCPU),
        .testTarget(name: "AudioTests", dependencies: ["Audio", "Runtime", "LEMModel"], exclude: ["Fixtures"], swiftSettings: nativeCPU),
        .testTarget(name: "TextTests", dependencies: ["Text"], swiftSettings: nativeCPU),
        .testTarget(name: "ONNXExportTests", dependencies: ["ONNXExport", "LEMModel", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    swiftSettings: nativeCPU),
        .testTarget(name: "TaskSupportTests", dependencies: ["TaskSupport", "LEMModel"], swiftSettings: nativeCPU),
        .testTarget(name: "SequenceModellingTests", dependencies: ["SequenceModelling", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    exclude: ["Fixtures"],
                    swiftSettings: nativeCPU),
        // Runs the built `lm` binary (CLI behaviour, end-to-end training on tiny corpora).
        // Shared by the CLI tests: running a built tool, temporary folders, kill-and-resume runs.
        .target(name: "ToolTestSupport", dependencies: ["LEMModel"], path: "Tests/ToolTestSupport"),
        .testTarget(name: "LMTests", dependencies: ["lm", "LanguageModelling", "Text", "LEMModel", "ToolTestSupport"], swiftSettings: nativeCPU),
        // Runs the built `seq` binary.
        .testTarget(name: "SeqTests", dependencies: ["seq", "LEMModel", "ToolTestSupport"], swiftSettings: nativeCPU),
        // Runs the built `adding` binary.
        .testTarget(name: "AddingTests", dependencies: ["adding", "LEMModel", "ToolTestSupport"], swiftSettings: nativeCPU),
        // Runs the built `kws` binary on generated WAV trees.
        .testTarget(name: "KWSTests", dependencies: ["kws", "KeywordSpotting", "Audio", "LEMModel", "ToolTestSupport"], swiftSettings: nativeCPU),
    ]
)

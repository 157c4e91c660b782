import LEMModel

/// Everything a checkpoint load does with untrusted bytes: safetensors parsing and checksum
/// (files without a checksum, e.g. written by Python, included), every tensor decoded, then for
/// each tool the lem metadata, model settings checked against the stored shapes, parameters
/// copied, the resumable training state. The bytes are parsed once: `Checkpoint.read` and
/// `decode` are this parse followed by `Checkpoint.validate`.
func fuzzOne(_ bytes: [UInt8]) {
    guard let file = try? SafeTensorsFile.parse(bytes, source: "fuzz") else { return }
    for name in file.names { _ = try? file.floats(name); _ = try? file.int64s(name) }
    for kind in ["lm", "kws"] {
        guard let checkpoint = try? Checkpoint.validate(file, path: "fuzz", expectedKind: kind) else { continue }
        if kind == "lm" { _ = try? checkpoint.languageModel() } else { _ = try? checkpoint.sequenceClassifier() }
        _ = (try? checkpoint.trainingProgress())?.rng
        _ = try? checkpoint.extra("state.y")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; hand control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzCheckpoint_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzInput)
}

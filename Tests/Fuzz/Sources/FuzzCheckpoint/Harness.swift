import LEMModel

/// Everything a checkpoint load does with untrusted bytes: safetensors parsing and checksum,
/// lem metadata, model settings checked against the stored shapes, parameters copied, the
/// resumable training state.
func fuzzOne(_ bytes: [UInt8]) {
    for kind in ["lm", "kws"] {
        guard let checkpoint = try? Checkpoint.decode(bytes, source: "fuzz", expectedKind: kind) else { continue }
        if kind == "lm" { _ = try? checkpoint.languageModel() } else { _ = try? checkpoint.sequenceClassifier() }
        _ = checkpoint.training?.rng
        _ = try? checkpoint.extra("state.y")
    }
    // Files without a checksum (e.g. written by Python) still go through the parser.
    if let file = try? SafeTensorsFile.parse(bytes, source: "fuzz") {
        for name in file.names { _ = try? file.floats(name); _ = try? file.int64s(name) }
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

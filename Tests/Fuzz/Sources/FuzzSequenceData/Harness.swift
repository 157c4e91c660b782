import Glibc
import SequenceModelling

let scratch = "/dev/shm/lem-fuzz-seq-\(getpid()).npz"

/// Every reader of sequence data on untrusted bytes: IDX (and gzip), CIFAR-10 batches, `.ts`
/// text, NumPy `.npy` / `.npz` (and the sequences made of their arrays), CSV (labelled or not),
/// `seq online`'s vector streams (text and raw float32) and their labels. Each must return data or throw; never crash or hang.
func fuzzOne(_ bytes: [UInt8]) {
    _ = try? IDXArray(parsing: bytes, source: "fuzz")
    _ = try? gunzip(bytes, source: "fuzz", limit: 1 << 20)
    _ = try? CIFAR10Batch(parsing: bytes, source: "fuzz")
    _ = try? NumPyArray(parsing: bytes, source: "fuzz")
    let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if fd >= 0 {
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if let arrays = try? readNumPyArchive(path: scratch), let x = arrays["x"] {
            _ = try? unlabelledNumPySequences(x: x, source: "fuzz")
            if let y = arrays["y"] {
                _ = try? numPySequences(x: x, y: y, xSource: "fuzz[x]", ySource: "fuzz[y]", regression: false)
                _ = try? numPySequences(x: x, y: y, xSource: "fuzz[x]", ySource: "fuzz[y]", regression: true)
            }
        }
        for (format, features) in [(VectorStream.Format.text, nil), (.f32, 3), (.text, 2)] as [(VectorStream.Format, Int?)] {
            guard let stream = try? VectorStream(path: scratch, format: format, features: features) else { continue }
            var count = 0
            while let v = try? stream.next() {
                count += v.count
                _ = VectorStream.label(of: v, classes: 3)   // a labelled stream's class (seq online --classes)
            }
        }
    }
    if let text = String(validating: bytes, as: UTF8.self) {
        _ = try? parseTSFile(text, source: "fuzz")
        _ = try? parseCSVSequences(text, source: "fuzz", features: 2, regression: false)
        _ = try? parseCSVSequences(text, source: "fuzz", features: 1, regression: true)
        _ = try? parseUnlabelledCSV(text, source: "fuzz", features: 2, labelledSteps: 3)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzSequenceData_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzInput)
}

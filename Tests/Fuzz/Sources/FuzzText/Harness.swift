import Glibc
import Text

/// Text reading of untrusted bytes: streamed UTF-8 validation and tokenisation at every level
/// (with a tiny chunk size, so chunk boundaries fall everywhere), and encoding with a vocabulary.
enum Scratch {
    static let path = "/dev/shm/lem-fuzz-text-\(getpid())"
    static let vocabulary = try! Vocabulary(tokens: ["a", "b", "<eos>", "<unk>", "_"])
}

func fuzzOne(_ bytes: [UInt8]) {
    let fd = open(Scratch.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    for level in TextLevel.allCases {
        var count = 0
        try? forEachToken(inFile: Scratch.path, level: level, chunkSize: 4096) { _ in count += 1 }
        _ = try? LanguageCorpus.encode(file: Scratch.path, level: level, vocabulary: Scratch.vocabulary)
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

@_cdecl("FuzzText_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzInput)
}

import Audio
import Glibc

/// Audio decoding of untrusted bytes: libsndfile through `readAudio` (container checks, block
/// reads, mixdown) and `AudioStream` with resampling to 16 kHz, as `kws classify` uses them.
/// libsndfile reads files, so each input is written to a per-process file in /dev/shm.
enum Scratch { static let path = "/dev/shm/lem-fuzz-audio-\(getpid())" }

func fuzzOne(_ bytes: [UInt8]) {
    let fd = open(Scratch.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { return }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    if let clip = try? readAudio(path: Scratch.path) { precondition(clip.samples.allSatisfy(\.isFinite)) }
    if let stream = try? AudioStream(path: Scratch.path, outputRate: 16000) {
        // Bounded: at most 10 s of output per input, as the fuzzer must not hang on long files.
        for _ in 0..<10 { guard let block = try? stream.read(maximum: 16000), !block.isEmpty else { break } }
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

@_cdecl("FuzzAudio_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzInput)
}

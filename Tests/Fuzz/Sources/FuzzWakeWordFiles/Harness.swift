import Audio
import Foundation
import KeywordSpotting

/// The text files the wake-word tools read, from untrusted bytes: the input is cut at 0xFF bytes
/// into a ground-truth CSV (`kws eval-stream --labels`), a detector's scores CSV (`--scores`), a
/// pronouncing dictionary (`kws synthesize --dictionary`) and a noise range (`--noise-range`),
/// each parsed as the tools parse it. Errors are fine; a crash or a hang is not.
func fuzzOne(_ bytes: [UInt8]) {
    let parts = bytes.split(separator: 0xFF, maxSplits: 3, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    func part(_ i: Int) -> String { i < parts.count ? parts[i] : "" }
    if let truth = try? parseTruth(part(0), source: "labels.csv") { _ = truth.reduce(0) { $0 + $1.endMs - $1.startMs } }
    if let scores = try? parseDetectorScores(part(1), source: "scores.csv") { _ = scores.last?.score }
    if let dictionary = try? PronouncingDictionary(text: part(2), source: "dict.out"), let phones = dictionary.phonemes.values.first {
        _ = dictionary.neighbours(of: phones, maxDistance: 2)
        _ = dictionary.pronounce(part(3))
    }
    _ = try? NoiseRange(parsing: part(3)).cut([0, 1, 2, 3, 4])
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzWakeWordFiles_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc, arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzInput)
}

import Foundation
@testable import Runtime
import XCTest
@testable import Audio

/// Windows of a stream computed with shared mel frames are bit-identical to each window alone.
final class MelFrameCacheTests: XCTestCase {
    func testCachedWindowsEqualWindowsComputedAlone() throws {
        var rng = RandomGenerator(seed: 12)
        let stream = (0..<(4 * 16000)).map { i in 0.3 * Float(sin(Double(i) * 0.05)) + rng.uniform(-0.1, 0.1) }
        var logmel = FeatureSettings.preset(.logmel)   // hop 128: a 100 ms stride is 12.5 hops
        logmel.perClipNormalization = true
        for settings in [FeatureSettings.preset(.mfcc), logmel] {
            let extractor = try FeatureExtractor(settings: settings)
            let cache = MelFrameCache()
            var reused = 0
            for stride in [1600, 1000] {
                cache.removeAll()
                for start in Swift.stride(from: 0, through: stream.count - 16000, by: stride) {
                    let window = Array(stream[start..<(start + 16000)])
                    let alone = extractor.compute(window)
                    var shared = [Float](repeating: .nan, count: extractor.valuesPerClip)
                    window.withUnsafeBufferPointer { w in
                        shared.withUnsafeMutableBufferPointer { extractor.compute(w, into: $0.baseAddress!, streamOffset: start, cache: cache) }
                    }
                    XCTAssertEqual(shared, alone, "\(settings.kind) stride \(stride) window at \(start)")
                    reused += cache.cachedFrameCount
                }
            }
            print("\(settings.kind): frames held in the cache over the windows: \(reused)")
            XCTAssertGreaterThan(reused, 0, "frames are shared")
        }
    }

    /// The speech embedding's windows every 80 ms share their mel frames and all but one
    /// embedding; those the window's clamp (its maximum − 80 dB) changes are recomputed. Against
    /// each window alone (the only difference: a frame's DFT in a batch of another size).
    func testSpeechEmbeddingWindowsShareEmbeddingsAndKeepTheClamp() throws {
        var rng = RandomGenerator(seed: 5)
        // Noise, then 1.2 s of digital silence (whose −100 dB frames the clamp lifts), then a tone in noise.
        var stream = (0..<(4 * 16000)).map { _ in rng.uniform(-0.2, 0.2) }
        for i in 24000..<43200 { stream[i] = 0 }
        for i in 43200..<stream.count { stream[i] = 0.5 * Float(sin(Double(i) * 0.07)) + 0.05 * stream[i] }
        let extractor = try FeatureExtractor(settings: .speechEmbedding)
        let cache = MelFrameCache()
        var worst: Float = 0, largest: Float = 0, windows = 0, held = 0
        for start in Swift.stride(from: 0, through: stream.count - 16000, by: 1280) {
            let window = Array(stream[start..<(start + 16000)])
            let alone = extractor.compute(window)
            var shared = [Float](repeating: .nan, count: extractor.valuesPerClip)
            window.withUnsafeBufferPointer { w in
                shared.withUnsafeMutableBufferPointer { extractor.compute(w, into: $0.baseAddress!, streamOffset: start, cache: cache) }
            }
            worst = max(worst, zip(shared, alone).map { abs($0 - $1) }.max()!)
            largest = max(largest, alone.map(abs).max()!)
            windows += 1
            held += cache.embeddings.cachedFrameCount
        }
        print("speech embedding, \(windows) windows 80 ms apart: max |shared − alone| \(worst) (values up to \(largest); tolerance 1e-3); embeddings held per window \(Double(held) / Double(windows))")
        XCTAssertLessThan(worst, 1e-3)
        XCTAssertGreaterThan(held, windows, "embeddings are shared between windows")
        // A window off the 10 ms grid does not use the cache (its frames are not the stream's).
        let odd = Array(stream[100..<16100])
        var out = [Float](repeating: .nan, count: extractor.valuesPerClip)
        odd.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { extractor.compute(w, into: $0.baseAddress!, streamOffset: 100, cache: cache) } }
        XCTAssertEqual(out, extractor.compute(odd))
    }

    /// A new stream after `removeAll` does not see the last stream's frames.
    func testRemoveAllForgetsTheLastStream() throws {
        let extractor = try FeatureExtractor(settings: .preset(.mfcc))
        let cache = MelFrameCache()
        let a = [Float](repeating: 0.2, count: 16000), b = (0..<16000).map { Float(sin(Double($0) * 0.1)) * 0.5 }
        var out = [Float](repeating: 0, count: extractor.valuesPerClip)
        a.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { extractor.compute(w, into: $0.baseAddress!, streamOffset: 0, cache: cache) } }
        cache.removeAll()
        XCTAssertEqual(cache.cachedFrameCount, 0)
        b.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { extractor.compute(w, into: $0.baseAddress!, streamOffset: 0, cache: cache) } }
        XCTAssertEqual(out, extractor.compute(b))
    }
}

import Audio
import Foundation
import LEMModel
import XCTest

/// The native openWakeWord front end against onnxruntime running the wheel's models
/// (Fixtures/openwakeword-frontend.safetensors, made by tools/reference/openwakeword/make_fixtures.py):
/// mel frames and embeddings, signal by signal, with the largest difference printed.
final class SpeechEmbeddingTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/openwakeword-frontend.safetensors")

    func testMelAndEmbeddingsMatchOnnxruntime() throws {
        let f = try SafeTensorsFile.read(path: Self.fixtures.path)
        let mel = OpenWakeWordMel()
        let embedding = try SpeechEmbedding()
        for name in ["noise", "sine", "burst"] {
            let audio = try f.floats("\(name).audio")
            let expectedMel = try f.floats("\(name).mel"), expectedEmbeddings = try f.floats("\(name).embeddings")
            let (frames, values) = mel(audio)
            XCTAssertEqual(frames, 197)
            XCTAssertEqual(values.count, expectedMel.count)
            let melDiff = zip(values, expectedMel).map { abs($0 - $1) }.max()!
            // Mel values are log10 of powers up to ~1e12 (+2): float32 products leave ~1e-5 of a unit.
            print("\(name): mel max |difference| \(melDiff) (tolerance 1e-4; values \(values.min()!) … \(values.max()!))")
            XCTAssertLessThan(melDiff, 1e-4, name)
            var worst: Float = 0, scale: Float = 0, chained: Float = 0
            let windows = (frames - SpeechEmbedding.frames) / 8 + 1
            XCTAssertEqual(windows * SpeechEmbedding.width, expectedEmbeddings.count)
            for w in 0..<windows {
                let e = expectedMel.withUnsafeBufferPointer { embedding(UnsafeBufferPointer(rebasing: $0[(w * 8 * 32)..<((w * 8 + 76) * 32)])) }
                // And from our own mel frames: the whole front end end to end.
                let ours = values.withUnsafeBufferPointer { embedding(UnsafeBufferPointer(rebasing: $0[(w * 8 * 32)..<((w * 8 + 76) * 32)])) }
                for j in 0..<SpeechEmbedding.width {
                    worst = max(worst, abs(e[j] - expectedEmbeddings[w * 96 + j]))
                    chained = max(chained, abs(ours[j] - expectedEmbeddings[w * 96 + j]))
                    scale = max(scale, abs(expectedEmbeddings[w * 96 + j]))
                }
            }
            print("\(name): embedding max |difference| \(worst) from onnxruntime's mel, \(chained) from ours, over \(windows) windows (values up to \(scale); tolerance 2e-4, 1e-3)")
            XCTAssertLessThan(worst, 2e-4, name)
            XCTAssertLessThan(chained, 1e-3, name)
        }
        // A streaming call of 1,760 samples: 8 frames, clamped over that call alone.
        let chunk = try f.floats("chunk.audio"), expected = try f.floats("chunk.mel")
        let (frames, values) = mel(chunk)
        XCTAssertEqual(frames, 8)
        let diff = zip(values, expected).map { abs($0 - $1) }.max()!
        print("1,760-sample call: mel max |difference| \(diff)")
        XCTAssertLessThan(diff, 1e-4)
        XCTAssertEqual(mel([Float](repeating: 0, count: 400)).frames, 0, "shorter than one 512-sample frame: nothing")
    }

    /// `kws train --features speech-embedding`: a 1 s clip (samples in ±1) gives the embeddings of
    /// its three 76-frame windows, as openWakeWord computes them for those samples as int16.
    func testFeatureExtractorGivesTheEmbeddingsOfAClip() throws {
        let f = try SafeTensorsFile.read(path: Self.fixtures.path)
        let audio = try f.floats("noise.audio"), expected = try f.floats("noise.embeddings")
        let extractor = try FeatureExtractor(settings: .speechEmbedding)
        XCTAssertEqual(extractor.featureCount, 96)
        XCTAssertEqual(extractor.frameCount, 3)
        let features = extractor.compute(Array(audio.prefix(16000)).map { $0 / 32768 })
        XCTAssertEqual(features.count, 3 * 96)
        // White noise never falls 80 dB under its maximum, so a 1 s call clamps nothing the 2 s call did not.
        let worst = zip(features, expected.prefix(3 * 96)).map { abs($0 - $1) }.max()!
        print("speech-embedding features of a 1 s clip: max |difference| \(worst) from onnxruntime (tolerance 1e-3)")
        XCTAssertLessThan(worst, 1e-3)
        var changed = FeatureSettings.speechEmbedding
        changed.nMels = 40
        XCTAssertThrowsError(try FeatureExtractor(settings: changed)) { XCTAssertTrue("\($0)".contains("the speech embedding's front end is fixed"), "\($0)") }
        var longer = FeatureSettings.speechEmbedding
        longer.clipSamples = 32000
        XCTAssertThrowsError(try FeatureExtractor(settings: longer)) { XCTAssertTrue("\($0)".contains("a 32000-sample clip has 16 speech embeddings, not 3"), "\($0)") }
        longer.frames = 16
        XCTAssertEqual(try FeatureExtractor(settings: longer).frameCount, 16)
    }
}

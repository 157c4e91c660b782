import Dispatch
import Foundation
@testable import Runtime
import XCTest
@testable import Audio

/// Settings, edge cases, thread safety and the train-set normaliser.
final class FeatureExtractorTests: XCTestCase {
    func testPresetsDescribeTheConvention() throws {
        let m = FeatureSettings.mfcc
        XCTAssertEqual([m.sampleRate, m.clipSamples, m.nFFT, m.hopLength, m.winLength, m.nMels, m.nMFCC, m.frames], [16000, 16000, 512, 160, 480, 40, 40, 101])
        XCTAssertEqual([m.fmin, m.fmax, m.power, m.amin], [20, 4000, 2, 1e-10])
        XCTAssertEqual(m.topDB, 80)
        XCTAssertEqual(m.padMode, .constant)
        XCTAssertEqual(m.dbReference, .one)
        XCTAssertFalse(m.perClipNormalization)
        XCTAssertEqual(m.stftFrameCount(sampleCount: 16000), 101)
        let l = FeatureSettings.logmel
        XCTAssertEqual([l.nFFT, l.hopLength, l.winLength, l.nMels, l.frames, l.featureCount], [1024, 128, 1024, 80, 126, 80])
        XCTAssertEqual([l.fmin, l.fmax, l.power], [40, 8000, 1])
        XCTAssertEqual(l.padMode, .reflect)
        XCTAssertEqual(l.dbReference, .clipMaximum)
        XCTAssert(l.perClipNormalization)
        XCTAssertEqual(l.stftFrameCount(sampleCount: 16000), 126)
        XCTAssert(m.description.contains("n_fft 512"), m.description)
        XCTAssertEqual(FeatureSettings.preset(.logmel), l)
    }

    func testSettingsCodableRoundTrip() throws {
        for settings in [FeatureSettings.mfcc, .logmel] {
            let json = try JSONEncoder().encode(settings)
            XCTAssertEqual(try JSONDecoder().decode(FeatureSettings.self, from: json), settings)
        }
        var noClip = FeatureSettings.mfcc
        noClip.topDB = nil
        XCTAssertEqual(try JSONDecoder().decode(FeatureSettings.self, from: try JSONEncoder().encode(noClip)), noClip)
    }

    func testInvalidSettingsAreRejected() {
        var cases: [(String, (inout FeatureSettings) -> Void)] = []
        cases.append(("nFFT must be even", { $0.nFFT = 511 }))
        cases.append(("winLength", { $0.winLength = 1024 }))
        cases.append(("hopLength", { $0.hopLength = 0 }))
        cases.append(("fmax", { $0.fmax = 9000 }))
        cases.append(("nMFCC", { $0.nMFCC = 41 }))
        cases.append(("frames", { $0.frames = 0 }))
        cases.append(("amin", { $0.amin = 0 }))
        for (phrase, change) in cases {
            var s = FeatureSettings.mfcc
            change(&s)
            XCTAssertThrowsError(try FeatureExtractor(settings: s)) { XCTAssert("\($0)".contains(phrase), "\($0)") }
        }
    }

    /// Empty, one-sample and constant clips give finite features of the right size, never a trap.
    func testDegenerateClips() throws {
        for settings in [FeatureSettings.mfcc, .logmel] {
            let e = try FeatureExtractor(settings: settings)
            for clip in [[Float](), [0.5], [Float](repeating: 0, count: 16000), [Float](repeating: 0.25, count: 16000), [Float](repeating: 0.1, count: 40000)] {
                let f = e.compute(clip)
                XCTAssertEqual(f.count, settings.valuesPerClip)
                XCTAssert(f.allSatisfy(\.isFinite), "\(settings.kind), \(clip.count) samples")
            }
            // Silence: MFCC of −100 dB everywhere; log-mel 0 dB relative to its own max, std 0 → left at 0.
            let silent = e.compute([Float](repeating: 0, count: 16000))
            if settings.kind == .mfcc {
                XCTAssertEqual(silent[0], -100 * Float(40).squareRoot(), accuracy: 1e-3)  // c0 = √40 · (−100 dB)
                XCTAssertEqual(silent[1], 0, accuracy: 1e-3)
            } else {
                XCTAssert(silent.allSatisfy { $0 == 0 })
            }
        }
    }

    /// Extractors may be built and used from many threads at once (the planner is serialised).
    func testConcurrentCreationAndUse() throws {
        var rng = RandomGenerator(seed: 11)
        let clip = (0..<16000).map { _ in rng.uniform(-0.5, 0.5) }
        let expected = try FeatureExtractor(settings: .mfcc).compute(clip)
        let results = ResultsBox2(count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            var settings = FeatureSettings.mfcc
            if i % 2 == 1 { settings.nFFT = 1024 }  // a second plan size, planned concurrently
            let e = try! FeatureExtractor(settings: settings)
            results.set(i, i % 2 == 0 ? e.compute(clip) == expected : e.compute(clip).count == 4040)
        }
        XCTAssert(results.all)
    }

    func testNormalizerStatisticsAndApply() throws {
        // 3 frames × 2 features.
        let values: [Float] = [1, 10, 2, 10, 3, 10]
        let n = FeatureNormalizer(fitting: values, featureCount: 2)
        XCTAssertEqual(n.mean, [2, 10])
        XCTAssertEqual(n.std[0], (2.0 / 3).squareRoot(), accuracy: 1e-6)  // population std
        XCTAssertEqual(n.std[1], 0)
        XCTAssertEqual(n.frameCount, 3)
        var x = values
        n.apply(&x)
        XCTAssertEqual(x[0], -1 / Float((2.0 / 3).squareRoot()), accuracy: 1e-5)
        XCTAssertEqual(x[1], 0)  // constant feature: centred, divided by max(std, 1e-5)
        XCTAssertEqual(x[4], 1 / Float((2.0 / 3).squareRoot()), accuracy: 1e-5)
        let json = try JSONEncoder().encode(n)
        XCTAssertEqual(try JSONDecoder().decode(FeatureNormalizer.self, from: json), n)
        XCTAssertEqual(FeatureNormalizer.identity(featureCount: 2).mean, [0, 0])
        XCTAssertNoThrow(try n.check(featureCount: 2))
        XCTAssertThrowsError(try n.check(featureCount: 40))
        for bad in [#"{"mean":[1,2],"std":[1],"frameCount":3}"#, #"{"mean":[],"std":[],"frameCount":0}"#,
                    #"{"mean":[1],"std":[-1],"frameCount":3}"#] {
            XCTAssertThrowsError(try JSONDecoder().decode(FeatureNormalizer.self, from: Data(bad.utf8)), bad)
        }

        // Large offsets: accumulated in Double, two passes, so the std survives a mean of 1e4.
        var rng = RandomGenerator(seed: 2)
        let big = (0..<20000).map { _ in 10000 + rng.normal() }
        let stats = FeatureNormalizer(fitting: big, featureCount: 1)
        XCTAssertEqual(stats.mean[0], 10000, accuracy: 0.05)
        XCTAssertEqual(stats.std[0], 1, accuracy: 0.03)
        // After applying, the data has mean 0 and std 1 per feature.
        let e = try FeatureExtractor(settings: .mfcc)
        let clips = (0..<6).map { k in sine(frequency: 200 + 300 * Double(k), sampleRate: 16000, count: 16000, amplitude: 0.1 * Double(k + 1)) }
        var features = e.computeContiguous(clips)
        let norm = FeatureNormalizer(fitting: features, featureCount: 40)
        norm.apply(&features)
        let after = FeatureNormalizer(fitting: features, featureCount: 40)
        for j in 0..<40 {
            XCTAssertEqual(after.mean[j], 0, accuracy: 1e-3)
            XCTAssertEqual(after.std[j], 1, accuracy: 1e-3)
        }
    }
}

final class ResultsBox2: @unchecked Sendable {
    private var values: [Bool]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: false, count: count) }
    func set(_ i: Int, _ v: Bool) { lock.lock(); values[i] = v; lock.unlock() }
    var all: Bool { lock.lock(); defer { lock.unlock() }; return values.allSatisfy { $0 } }
}

import Foundation
import LEMModel  // SafeTensorsFile reads the fixtures
@testable import Runtime
import XCTest
@testable import Audio

/// Parity with librosa (tools/reference/make_mfcc_fixtures.py; librosa 0.11.0, versions and exact
/// calls in each fixture's metadata) on three synthetic 1 s WAVs: chirp, noise burst, vowel.
///
/// Tolerances (absolute, per entry; the max |diff| of every matrix is printed):
/// - filterbanks: 1e-6 relative to the filter peak. Both sides evaluate the same formula in
///   Double; librosa rounds the triangle to float32 before the norm multiply, we round once.
/// - dB matrices: 0.01 dB + 1e-6·10^(Δ/u) dB for an entry Δ dB below the strongest band of its
///   frame (u = 10 for the log-mel's magnitude-dB, 20 for the MFCC's power-dB). librosa's FFT
///   runs in float64 (numpy), ours in float32 (FFTW); float32 FFT rounding noise is ~1e-7 of the
///   frame's strongest component, so a band 10^(Δ/u) times weaker carries a relative error of
///   ~1e-7·10^(Δ/u), i.e. 4.34× that in dB. That matters for the LEM log-mel: it is 10·log10 of a
///   *magnitude* spectrum with top_db 80, so its floor is 1e-8 of the peak magnitude, below
///   float32 resolution (measured: 0.062 dB at 60 dB below the frame's top band, chirp). Within
///   ~40 dB of the frame's top band the flat 0.01 dB dominates; measured errors there are ≤ 2e-3.
/// - MFCC: 0.02 absolute. c0 is √40·mean(dB) ≈ −300 here, so this is ~1e-4 relative; each
///   coefficient is a ±√(2/40)-weighted sum of 40 dB values (power-dB, whose 80 dB floor is only
///   1e-4 of the peak magnitude, well inside float32 precision). Measured: ≤ 4e-4.
/// - z-scored log-mel: the dB criterion above after multiplying the difference by the clip's dB
///   std (~16 dB), so 0.01 dB ≈ 6e-4 in z units.
final class FeatureParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let clips = ["chirp", "noise_burst", "vowel"]

    func fixture(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile.read(path: Self.fixtures.appendingPathComponent(name).path)
    }

    /// Like `compare`, for a dB matrix `[frames, bands]`: an entry Δ dB below the strongest band of
    /// its frame may differ by `base + floorSlope · 10^(Δ/unit)` dB (unit 10 for magnitude-dB, 20
    /// for power-dB), i.e. the float32 FFT's rounding noise, which is relative to the frame's
    /// strongest component, seen on a value that is 10^(Δ/unit) times weaker. Returns the worst
    /// diff / tolerance.
    @discardableResult
    func compareDB(_ ours: [Float], _ reference: [Float], bands: Int, _ what: String, base: Float, floorSlope: Float, unit: Float,
                   dbPerUnit scale: Float = 1, file: StaticString = #filePath, line: UInt = #line) -> Float {
        XCTAssertEqual(ours.count, reference.count, "\(what): sizes differ", file: file, line: line)
        var worst: Float = 0, worstRatio: Float = 0, failures = 0, firstFailure = ""
        for t in 0..<(min(ours.count, reference.count) / bands) {
            let row = reference[(t * bands)..<((t + 1) * bands)]
            let rowMax = row.max()!
            for m in 0..<bands {
                let i = t * bands + m
                let diff = abs(ours[i] - reference[i]) * scale
                let weakness = powf(10, (rowMax - reference[i]) * scale / unit)
                worst = max(worst, diff)
                worstRatio = max(worstRatio, diff / (base + floorSlope * weakness))
                if !(diff <= base + floorSlope * weakness) {
                    failures += 1
                    if firstFailure.isEmpty { firstFailure = "frame \(t) band \(m): ours \(ours[i]) vs librosa \(reference[i]), \(rowMax - reference[i]) dB below the frame's top band" }
                }
            }
        }
        print("  \(what): max |diff| \(worst) dB, worst diff/tolerance \(worstRatio) (tolerance \(base) + \(floorSlope)·10^(Δ/\(Int(unit))))"
              + (failures > 0 ? "  FAIL at \(failures) entries" : ""))
        XCTAssertEqual(failures, 0, "\(what): \(failures) entries outside tolerance; first: \(firstFailure)", file: file, line: line)
        return worstRatio
    }

    @discardableResult
    func compare(_ ours: [Float], _ reference: [Float], _ what: String, tolerance: Float,
                 file: StaticString = #filePath, line: UInt = #line) -> Float {
        XCTAssertEqual(ours.count, reference.count, "\(what): sizes differ", file: file, line: line)
        var worst: (diff: Float, index: Int) = (0, 0)
        var failures = 0
        for i in 0..<min(ours.count, reference.count) {
            let diff = abs(ours[i] - reference[i])
            if diff > worst.diff || diff.isNaN { worst = (diff, i) }
            if !(diff <= tolerance) { failures += 1 }
        }
        print("  \(what): max |diff| \(worst.diff) (tolerance \(tolerance))" + (failures > 0 ? "  FAIL at \(failures) entries" : ""))
        XCTAssertEqual(failures, 0, "\(what): \(failures) entries differ by more than \(tolerance); max \(worst.diff) at \(worst.index): ours \(ours[worst.index]) vs librosa \(reference[worst.index])", file: file, line: line)
        return worst.diff
    }

    func samples(_ clip: String) throws -> [Float] {
        let audio = try readAudio(path: Self.fixtures.appendingPathComponent(clip + ".wav").path)
        XCTAssertEqual(audio.sampleRate, 16000)
        XCTAssertEqual(audio.frames, 16000)
        return audio.samples
    }

    func testSamplesReadLikeLibrosa() throws {
        for clip in Self.clips {
            let f = try fixture(clip + ".safetensors")
            XCTAssertEqual(try samples(clip), try f.floats("samples"), "\(clip): samples differ from librosa.load")
        }
    }

    func testFilterbanksMatchLibrosa() throws {
        let f = try fixture("filterbanks.safetensors")
        for (name, settings) in [("mel_mfcc", FeatureSettings.mfcc), ("mel_logmel", FeatureSettings.logmel)] {
            let extractor = try FeatureExtractor(settings: settings)
            XCTAssertEqual(try f.shape(name), [settings.nMels, settings.binCount])
            let reference = try f.floats(name)
            let peak = reference.max()!
            compare(extractor.melFilterbank, reference, name, tolerance: 1e-6 * peak)
        }
    }

    /// The dB matrix before the DCT (`power_to_db(melspectrogram)` with ref 1, top_db 80).
    func testMFCCLogMelMatchesLibrosa() throws {
        var settings = FeatureSettings.mfcc
        settings.kind = .logmel
        settings.nMFCC = 0
        let extractor = try FeatureExtractor(settings: settings)
        for clip in Self.clips {
            let f = try fixture(clip + ".safetensors")
            compareDB(extractor.compute(try samples(clip)), try f.floats("mfcc_mel_db"), bands: 40, "\(clip) mfcc_mel_db",
                      base: 0.01, floorSlope: 1e-6, unit: 20)
        }
    }

    func testMFCCMatchesLibrosa() throws {
        let extractor = try FeatureExtractor(settings: .mfcc)
        for clip in Self.clips {
            let f = try fixture(clip + ".safetensors")
            let x = try samples(clip)
            XCTAssertEqual(try f.shape("mfcc"), [101, 40])
            compare(extractor.compute(x), try f.floats("mfcc"), "\(clip) mfcc", tolerance: 0.02)
            compare(extractor.compute(Array(x[..<8000])), try f.floats("mfcc_half"), "\(clip) mfcc (first 0.5 s, padded)", tolerance: 0.02)
            compare(extractor.compute(Array(x[..<300])), try f.floats("mfcc_short"), "\(clip) mfcc (first 300 samples, padded)", tolerance: 0.02)
        }
    }

    func unbiasedStd(_ x: [Float]) -> Float {
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        return Float((x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(x.count - 1)).squareRoot())
    }

    func testLogMelMatchesLEMLoader() throws {
        let extractor = try FeatureExtractor(settings: .logmel)
        var unnormalised = FeatureSettings.logmel
        unnormalised.perClipNormalization = false
        let dbExtractor = try FeatureExtractor(settings: unnormalised)
        for clip in Self.clips {
            let f = try fixture(clip + ".safetensors")
            let x = try samples(clip)
            XCTAssertEqual(try f.shape("logmel"), [126, 80])
            compareDB(dbExtractor.compute(x), try f.floats("logmel_db"), bands: 80, "\(clip) logmel_db",
                      base: 0.01, floorSlope: 1e-6, unit: 10)
            compareDB(dbExtractor.compute(Array(x[..<8000])), try f.floats("logmel_db_half"), bands: 80, "\(clip) logmel_db (first 0.5 s, padded)",
                      base: 0.01, floorSlope: 1e-6, unit: 10)
            // z-scored: the same criterion in dB, after multiplying by the clip's dB std.
            compareDB(extractor.compute(x), try f.floats("logmel"), bands: 80, "\(clip) logmel (z-scored)",
                      base: 0.01, floorSlope: 1e-6, unit: 10, dbPerUnit: unbiasedStd(try f.floats("logmel_db")))
            compareDB(extractor.compute(Array(x[..<8000])), try f.floats("logmel_half"), bands: 80, "\(clip) logmel (first 0.5 s, padded, z-scored)",
                      base: 0.01, floorSlope: 1e-6, unit: 10, dbPerUnit: unbiasedStd(try f.floats("logmel_db_half")))
            // 300 samples: shorter than the 512-sample centre padding (repeated reflection).
            compareDB(dbExtractor.compute(Array(x[..<300])), try f.floats("logmel_db_short"), bands: 80, "\(clip) logmel_db (first 300 samples)",
                      base: 0.01, floorSlope: 1e-6, unit: 10)
            compareDB(extractor.compute(Array(x[..<300])), try f.floats("logmel_short"), bands: 80, "\(clip) logmel (first 300 samples, z-scored)",
                      base: 0.01, floorSlope: 1e-6, unit: 10, dbPerUnit: unbiasedStd(try f.floats("logmel_db_short")))
        }
    }

    /// Batch extraction on both cores gives exactly the single-clip results.
    func testBatchEqualsSingle() throws {
        let extractor = try FeatureExtractor(settings: .mfcc)
        let clips = try Self.clips.map { try samples($0) }
        let batch = extractor.computeBatch(clips + clips)
        let contiguous = extractor.computeContiguous(clips + clips)
        for (i, clip) in (clips + clips).enumerated() {
            let single = extractor.compute(clip)
            XCTAssertEqual(batch[i], single)
            XCTAssertEqual(Array(contiguous[(i * 4040)..<((i + 1) * 4040)]), single)
        }
    }
}

import Audio
import LEMModel
@testable import KeywordSpotting
import XCTest

/// The keyword-spotting library's settings logic, without running the tool.
final class KeywordSpottingLibraryTests: XCTestCase {
    func testPresetsAndTheirSchedules() {
        let g12 = KeywordHyperparameters.preset(.google12)
        XCTAssertEqual(g12.features, .logmel)
        XCTAssertEqual([g12.hidden, g12.batch, g12.epochs], [128, 100, 60])
        XCTAssertEqual(g12.lr, 8.9e-4)
        XCTAssertEqual(g12.schedule, .stepDecay(milestones: [50], factor: 0.1))
        var plain = KeywordHyperparameters.preset(nil)
        XCTAssertEqual(plain.schedule, .plateau(factor: 0.5, patience: 2, threshold: 0, minimum: 0))
        plain.lrDecay = 1
        XCTAssertEqual(plain.schedule, .constant)
    }

    func testFeatureOverridesAndThePapersFramingForMFCCs() throws {
        // google12 with MFCCs takes the log-mel's framing: 80 bands and coefficients, n_fft 1024, hop 128, 126 frames.
        let framed = try FeatureOverrides().settings(kind: .mfcc, preset: .google12)
        XCTAssertEqual([framed.nFFT, framed.hopLength, framed.nMels, framed.nMFCC, framed.frames], [1024, 128, 80, 80, 126])
        XCTAssertTrue(framed.perClipNormalization)
        // Without the preset, the speech-recognition MFCCs; overrides apply on top of either.
        let plain = try FeatureOverrides().settings(kind: .mfcc, preset: nil)
        XCTAssertEqual(plain, FeatureSettings.preset(.mfcc))
        let hop = try FeatureOverrides(hop: 320, featureCount: 20).settings(kind: .mfcc, preset: nil)
        XCTAssertEqual([hop.hopLength, hop.nMels, hop.nMFCC], [320, 20, 20])
        XCTAssertEqual(hop.frames, hop.stftFrameCount(sampleCount: hop.clipSamples))
        XCTAssertThrowsError(try FeatureOverrides(fmax: 20_000).settings(kind: .logmel, preset: nil)) { error in
            XCTAssertTrue("\(error)".hasPrefix("feature settings:"), "\(error)")
        }
    }
}

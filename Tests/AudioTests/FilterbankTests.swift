import Foundation
import XCTest
@testable import Audio

/// The fixed matrices against independent formulas computed here in Double.
final class FilterbankTests: XCTestCase {
    /// Slaney mel scale written out independently: 3 mels per 200 Hz below 1 kHz, then a log
    /// scale with 27 mels per factor 6.4 (Auditory Toolbox, Slaney 1998).
    func slaneyMel(_ f: Double) -> Double {
        f < 1000 ? 3 * f / 200 : 15 + 27 * log(f / 1000) / log(6.4)
    }

    func slaneyHz(_ m: Double) -> Double {
        m < 15 ? 200 * m / 3 : 1000 * pow(6.4, (m - 15) / 27)
    }

    func testMelScaleRoundTripAndKnots() {
        XCTAssertEqual(hzToMel(1000, scale: .slaney), 15, accuracy: 1e-12)
        XCTAssertEqual(hzToMel(6400, scale: .slaney), 42, accuracy: 1e-12)
        XCTAssertEqual(hzToMel(1000, scale: .htk), 2595 * log10(1 + 1000.0 / 700), accuracy: 1e-12)
        for f in stride(from: 0.0, through: 8000, by: 37.5) {
            XCTAssertEqual(hzToMel(f, scale: .slaney), slaneyMel(f), accuracy: 1e-9)
            XCTAssertEqual(melToHz(hzToMel(f, scale: .slaney), scale: .slaney), f, accuracy: 1e-9)
            XCTAssertEqual(melToHz(hzToMel(f, scale: .htk), scale: .htk), f, accuracy: 1e-9)
        }
    }

    /// Each filter is a triangle over Hz between mel-spaced edges with area-normalised height
    /// 2/(right − left); checked at every bin of the default MFCC and log-mel banks.
    func testFilterbankMatchesTriangleFormula() throws {
        for settings in [FeatureSettings.mfcc, FeatureSettings.logmel] {
            let extractor = try FeatureExtractor(settings: settings)
            let bins = settings.nFFT / 2 + 1
            let lo = slaneyMel(settings.fmin), hi = slaneyMel(settings.fmax)
            let edges = (0..<(settings.nMels + 2)).map { slaneyHz(lo + (hi - lo) * Double($0) / Double(settings.nMels + 1)) }
            var worst = 0.0
            for m in 0..<settings.nMels {
                let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2])
                let height = 2 / (right - left)
                for k in 0..<bins {
                    let f = Double(k) * Double(settings.sampleRate) / Double(settings.nFFT)
                    var expected = 0.0
                    if f > left && f <= centre { expected = height * (f - left) / (centre - left) }
                    else if f > centre && f < right { expected = height * (right - f) / (right - centre) }
                    let got = Double(extractor.melFilterbank[m * bins + k])
                    worst = max(worst, abs(got - expected) / height)
                }
            }
            print("\(settings.kind) filterbank vs formula: max |diff| / peak = \(worst)")
            XCTAssertLessThan(worst, 1e-6)
            // Each bin inside (fmin, fmax) is covered by one or two filters, none outside.
            for k in 0..<bins {
                let f = Double(k) * Double(settings.sampleRate) / Double(settings.nFFT)
                let covering = (0..<settings.nMels).filter { extractor.melFilterbank[$0 * bins + k] > 0 }.count
                if f <= settings.fmin || f >= settings.fmax { XCTAssertEqual(covering, 0, "bin \(k) at \(f) Hz") }
                else { XCTAssert((1...2).contains(covering), "bin \(k) at \(f) Hz covered by \(covering)") }
            }
        }
    }

    /// DCT-II ortho: against the direct cosine sum, and orthonormality of the full matrix.
    func testDCTMatchesDirectSumAndIsOrthonormal() throws {
        let n = 40
        let d = dctIIOrthoMatrix(count: n, size: n)
        var x = [Double](repeating: 0, count: n)
        for i in 0..<n { x[i] = sin(Double(i) * 0.7) * 30 - Double(i) }
        for k in 0..<n {
            var direct = 0.0
            for i in 0..<n { direct += x[i] * cos(Double.pi * Double(k) * (2 * Double(i) + 1) / (2 * Double(n))) }
            direct *= k == 0 ? (1 / Double(n)).squareRoot() : (2 / Double(n)).squareRoot()
            var viaMatrix = 0.0
            for i in 0..<n { viaMatrix += d[k * n + i] * x[i] }
            XCTAssertEqual(viaMatrix, direct, accuracy: 1e-9)
        }
        for a in 0..<n {
            for b in 0..<n {
                var dot = 0.0
                for i in 0..<n { dot += d[a * n + i] * d[b * n + i] }
                XCTAssertEqual(dot, a == b ? 1 : 0, accuracy: 1e-12)
            }
        }
        // The extractor's Float copy keeps the first nMFCC rows.
        let extractor = try FeatureExtractor(settings: .mfcc)
        XCTAssertEqual(extractor.dctMatrix.count, 40 * 40)
        for i in 0..<(40 * 40) { XCTAssertEqual(Double(extractor.dctMatrix[i]), d[i], accuracy: 1e-7) }
    }

    func testPeriodicHannWindowCentred() throws {
        let w = analysisWindow(.mfcc)
        XCTAssertEqual(w.count, 512)
        for j in 0..<16 { XCTAssertEqual(w[j], 0); XCTAssertEqual(w[511 - j], 0) }
        XCTAssertEqual(w[16], 0)  // periodic Hann starts at 0 …
        XCTAssertEqual(w[16 + 240], 1, accuracy: 1e-15)  // … peaks at N/2 …
        XCTAssertGreaterThan(w[16 + 479], 0)  // … and does not return to 0 (periodic, not symmetric)
    }
}

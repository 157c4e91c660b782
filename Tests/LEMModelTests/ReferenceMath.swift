import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

// Independent Double-precision references for the gradient checks. They share no code with the
// Float implementation: plain loops, Foundation's exp/tanh, no BLAS.

/// The LEM recurrence of docs/MODEL.md / the authors' LEMCell, in Double, one step at a time.
struct ReferenceLEM {
    var m: Int, d: Int, dt: Double
    // Same names and layouts as the PyTorch module.
    var inp2hidW: [Double], inp2hidB: [Double], hid2hidW: [Double], hid2hidB: [Double], transformW: [Double], transformB: [Double]

    static let parameterNames = ["inp2hid.weight", "inp2hid.bias", "hid2hid.weight", "hid2hid.bias", "transform_z.weight", "transform_z.bias"]

    var flatParameters: [[Double]] {
        get { [inp2hidW, inp2hidB, hid2hidW, hid2hidB, transformW, transformB] }
        set { (inp2hidW, inp2hidB, hid2hidW, hid2hidB, transformW, transformB) = (newValue[0], newValue[1], newValue[2], newValue[3], newValue[4], newValue[5]) }
    }

    /// Runs T steps over input [T, B, m] from (y0, z0) [B, d], with an optional state mask [B, d]
    /// on y where it enters hid2hid. Returns outputs [T, B, d], yT, zT.
    func forward(_ input: [Double], T: Int, B: Int, y0: [Double], z0: [Double], mask: [Double]? = nil) -> (outputs: [Double], y: [Double], z: [Double]) {
        var y = y0, z = z0
        var outputs: [Double] = []
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        for t in 0..<T {
            var yNew = y, zNew = z
            for b in 0..<B {
                let u = Array(input[(t * B + b) * m ..< (t * B + b + 1) * m])
                let yb = Array(y[b * d ..< (b + 1) * d])
                let yIn = mask.map { mk in (0..<d).map { yb[$0] * mk[b * d + $0] } } ?? yb
                func inp(_ row: Int) -> Double { inp2hidB[row] + (0..<m).reduce(0) { $0 + inp2hidW[row * m + $1] * u[$1] } }
                func hid(_ row: Int) -> Double { hid2hidB[row] + (0..<d).reduce(0) { $0 + hid2hidW[row * d + $1] * yIn[$1] } }
                var zb = [Double](repeating: 0, count: d)
                for i in 0..<d {
                    let dtZ = dt * sigmoid(inp(d + i) + hid(d + i))
                    zb[i] = (1 - dtZ) * z[b * d + i] + dtZ * tanh(inp(3 * d + i) + hid(2 * d + i))
                }
                for i in 0..<d {
                    let dtBar = dt * sigmoid(inp(i) + hid(i))
                    let tz = transformB[i] + (0..<d).reduce(0) { $0 + transformW[i * d + $1] * zb[$1] }
                    yNew[b * d + i] = (1 - dtBar) * yb[i] + dtBar * tanh(tz + inp(2 * d + i))
                    zNew[b * d + i] = zb[i]
                }
            }
            y = yNew; z = zNew
            outputs += y
        }
        return (outputs, y, z)
    }
}

/// Central differences of a scalar function at x: (f(x+h) − f(x−h)) / 2h per coordinate.
func numericalGradient(at x: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var x = x
    return (0..<x.count).map { i in
        let saved = x[i]
        x[i] = saved + h; let plus = f(x)
        x[i] = saved - h; let minus = f(x)
        x[i] = saved
        return (plus - minus) / (2 * h)
    }
}

/// max_i |observed_i − expected_i| / max(max_i |expected_i|, floor): the error relative to the
/// tensor's scale, so tiny entries of a large tensor are not judged by their own size.
func scaledMaxError(_ observed: [Float], _ expected: [Double], floor: Double = 1e-6) -> Double {
    precondition(observed.count == expected.count, "sizes differ: \(observed.count) vs \(expected.count)")
    let scale = max(expected.map(abs).max() ?? 0, floor)
    return zip(observed, expected).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
}

func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "sizes differ: \(a.count) vs \(b.count)")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

extension Parameter {
    var values: [Float] { Array(UnsafeBufferPointer(start: value, count: count)) }
    var grads: [Float] { Array(UnsafeBufferPointer(start: grad, count: count)) }
    func set(_ v: [Float]) { precondition(v.count == count); value.update(from: v, count: count) }
}

func randomArray(_ n: Int, _ rng: inout RandomGenerator, scale: Float = 1) -> [Float] {
    (0..<n).map { _ in rng.normal() * scale }
}

/// Asserts |ours − reference| ≤ absolute + relative·|reference| entry by entry, and prints the
/// tensor's max difference (the parity tests' criterion).
func compareToReference(_ ours: [Float], _ reference: [Float], _ what: String, absolute: Float = 1e-5, relative: Float = 1e-4,
             file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(ours.count, reference.count, "\(what): sizes differ", file: file, line: line)
    var worst: (diff: Float, index: Int) = (0, 0)
    var failures = 0
    for i in 0..<min(ours.count, reference.count) {
        let diff = abs(ours[i] - reference[i])
        if diff > worst.diff { worst = (diff, i) }
        if !(diff <= absolute + relative * abs(reference[i])) { failures += 1 }
    }
    print("  \(what): max |diff| \(worst.diff)" + (failures > 0 ? "  FAIL at \(failures) entries" : ""))
    XCTAssertEqual(failures, 0, "\(what): \(failures) entries outside \(absolute) + \(relative)·|ref|; max |diff| \(worst.diff) at \(worst.index): ours \(ours[worst.index]) vs \(reference[worst.index])", file: file, line: line)
}

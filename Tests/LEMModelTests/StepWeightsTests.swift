@testable import LEMModel
@testable import Runtime
import XCTest

/// `StepWeights`: every route of the per-step products (W in place, its transposed copy in column
/// blocks, oneDNN's packed W, int8) against the product computed in Double, forward
/// (C (+)= A·Wᵀ, into a wider C) and backward (C (+)= G·W from a wider G, in row blocks).
final class StepWeightsTests: XCTestCase {
    override func tearDown() { ProductPolicy.current = .fromEnvironment }

    func testEveryRouteComputesTheSameProducts() throws {
        let (B, n, k, ldc, lda) = (5, 12, 7, 20, 15)
        var rng = RandomGenerator(seed: 11)
        let w = FloatBuffer(count: n * k), a = FloatBuffer(count: B * k), g = FloatBuffer(count: B * lda)
        let c0 = FloatBuffer(count: B * ldc), d0 = FloatBuffer(count: B * k)
        for buffer in [w, a, g, c0, d0] { rng.fillUniform(buffer.buffer, -1, 1) }
        // Double references: forward C[:, 0..<n] += A·Wᵀ, backward D += G[:, 0..<n]·W.
        var forward = (0..<B * ldc).map { Double(c0.pointer[$0]) }, backward = (0..<B * k).map { Double(d0.pointer[$0]) }
        for b in 0..<B {
            for j in 0..<n { for i in 0..<k { forward[b * ldc + j] += Double(a.pointer[b * k + i]) * Double(w.pointer[j * k + i]) } }
            for i in 0..<k { for j in 0..<n { backward[b * k + i] += Double(g.pointer[b * lda + j]) * Double(w.pointer[j * k + i]) } }
        }
        let packing = ProductPolicy(packedMinimumHidden: 1, packedMinimumBatch: 1)
        let routes: [(String, ProductPolicy, Bool, StepWeights.Route, Int)] = [
            ("in place", ProductPolicy(packedWeights: false), false, .inPlace, 1),
            ("transposed copy", ProductPolicy(packedWeights: false), true, .transposedCopy, 1),
            ("transposed copy, 3 column blocks", ProductPolicy(packedWeights: false), true, .transposedCopy, 3),
            ("packed (oneDNN)", packing, false, .packed, 1),
        ]
        for (name, policy, copies, route, blocks) in routes {
            let weights = StepWeights(w.pointer, rows: n, columns: k)
            let c = FloatBuffer(count: B * ldc), d = FloatBuffer(count: B * k)
            c.pointer.update(from: c0.pointer, count: B * ldc)
            d.pointer.update(from: d0.pointer, count: B * k)
            weights.beginForward(batch: B, hidden: k, copies: copies, ldc: ldc, accumulate: true, policy: policy)
            XCTAssertEqual(weights.forwardRoute, route, name)
            weights.forward(a.pointer, rows: B, into: c.pointer, columnBlocks: blocks)
            weights.beginBackward(batch: B, hidden: k, lda: lda, accumulate: true, policy: policy)
            weights.backward(g.pointer, rows: B, lda: lda, into: d.pointer, accumulate: true, rowBlocks: route == .packed ? 1 : blocks)
            let forwardError = (0..<B * ldc).map { abs(Double(c.pointer[$0]) - forward[$0]) }.max()!
            let backwardError = (0..<B * k).map { abs(Double(d.pointer[$0]) - backward[$0]) }.max()!
            print("StepWeights \(name): forward max error \(forwardError), backward \(backwardError) (tolerance 1e-5)")
            XCTAssertLessThan(forwardError, 1e-5, name)
            XCTAssertLessThan(backwardError, 1e-5, name)
        }
        // Overwriting (C =) in place and in row blocks.
        let weights = StepWeights(w.pointer, rows: n, columns: k)
        let d = FloatBuffer(count: B * k)
        weights.beginBackward(batch: B, hidden: k, lda: lda, accumulate: false, policy: ProductPolicy(packedWeights: false))
        weights.backward(g.pointer, rows: B, lda: lda, into: d.pointer, accumulate: false, rowBlocks: 2)
        let overwriteError = (0..<B * k).map { abs(Double(d.pointer[$0]) - (backward[$0] - Double(d0.pointer[$0]))) }.max()!
        XCTAssertLessThan(overwriteError, 1e-5)

        // int8: within the quantisation error, and the route reports it.
        let quantized = StepWeights(w.pointer, rows: n, columns: k)
        quantized.quantize()
        let c = FloatBuffer(count: B * ldc)
        c.pointer.update(from: c0.pointer, count: B * ldc)
        quantized.beginForward(batch: B, hidden: k, copies: true, ldc: ldc, accumulate: true)
        XCTAssertEqual(quantized.forwardRoute, .int8)
        quantized.forward(a.pointer, rows: B, into: c.pointer)
        let int8Error = (0..<B * ldc).map { abs(Double(c.pointer[$0]) - forward[$0]) }.max()!
        print("StepWeights int8: forward max error \(int8Error) (tolerance 0.05 for |a|, |w| ≤ 1, k = \(k))")
        XCTAssertLessThan(int8Error, 0.05)
    }
}

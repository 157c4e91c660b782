import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// int8 inference (`Int8Matrix`, Sources/CInt8): the quantisation rule, the kernel's products
/// against a Double evaluation of the same integers (exact sums: only the final float rescale
/// may differ), and each cell and both models quantised against their float selves.
final class Int8Tests: XCTestCase {
    /// Per-row symmetric quantisation as the header states it, in Float as the kernel does.
    func quantised(_ row: ArraySlice<Float>) -> (q: [Int], scale: Float) {
        let scale = row.map(abs).max()! / 127
        let inverse: Float = scale > 0 ? 1 / scale : 0
        return (row.map { max(-127, min(127, Int(($0 * inverse).rounded(.toNearestOrEven)))) }, scale)
    }

    func testWeightsAreQuantisedRowByRow() {
        var rng = RandomGenerator(seed: 11)
        let (n, k) = (19, 13)
        var w = randomArray(n * k, &rng, scale: 2)
        for c in 0..<k { w[3 * k + c] = 0 }           // an all-zero row
        w[5 * k + 2] = 0.5 * (w[5 * k ..< 6 * k].map(abs).max()! / 127)   // a value halfway between two steps
        let matrix = Int8Matrix(w, rows: n, columns: k)
        var worst = 0
        for j in 0..<n {
            let (q, scale) = quantised(w[j * k ..< (j + 1) * k])
            XCTAssertEqual(matrix.scale(row: j), scale, "row \(j)'s scale")
            for c in 0..<k { worst = max(worst, abs(Int(matrix.value(row: j, column: c)) - q[c])) }
        }
        print("int8 weights: max |stored − round-half-even(W/scale)| = \(worst) (expected 0); VNNI kernel: \(Int8Matrix.usesVNNI)")
        XCTAssertEqual(worst, 0)
        XCTAssertEqual(matrix.scale(row: 3), 0)
    }

    /// Odd shapes exercise every tile of the kernel (rows 1…6 of A, 1…4 column blocks, masked
    /// last block, K not a multiple of 4), with and without accumulation, and row strides.
    func testProductsAreExactOnTheQuantisedValues() {
        var rng = RandomGenerator(seed: 12)
        // Row tiles 1…6 (m mod 6) and column tiles of 1…4 blocks of 16 (n mod 64 in 1…16, …, 49…64).
        for (m, n, k, lda, ldc) in [(1, 1, 1, 1, 1), (1, 10_000 / 37, 130, 130, 270), (5, 17, 3, 7, 20), (7, 64, 64, 64, 64),
                                    (13, 70, 13, 13, 71), (6, 49, 256, 300, 49), (2, 40, 9, 9, 40), (3, 48, 17, 20, 50),
                                    (4, 35, 8, 8, 35), (10, 100, 33, 33, 100)] {
            let a = randomArray(m * lda, &rng), w = randomArray(n * k, &rng, scale: 0.3), c0 = randomArray(m * ldc, &rng)
            let matrix = Int8Matrix(w, rows: n, columns: k)
            for accumulate in [false, true] {
                var c = c0
                matrix.multiply(a, rows: m, lda: lda, into: &c, ldc: ldc, accumulate: accumulate)
                var worst = 0.0, worstFloat = 0.0
                for i in 0..<m {
                    let (p, s) = quantised(a[i * lda ..< i * lda + k])
                    for j in 0..<n {
                        var sum = 0
                        for c in 0..<k { sum += p[c] * Int(matrix.value(row: j, column: c)) }
                        let expected = (accumulate ? Double(c0[i * ldc + j]) : 0) + Double(s) * Double(matrix.scale(row: j)) * Double(sum)
                        let float = (accumulate ? Double(c0[i * ldc + j]) : 0) + (0..<k).reduce(0.0) { $0 + Double(a[i * lda + $1]) * Double(w[j * k + $1]) }
                        worst = max(worst, abs(Double(c[i * ldc + j]) - expected) / max(1, abs(expected)))
                        // Quantisation error, relative to its Cauchy–Schwarz scale ‖A[i, :]‖·‖W[j, :]‖.
                        let norms = (0..<k).reduce(0.0) { $0 + Double(a[i * lda + $1] * a[i * lda + $1]) }.squareRoot()
                            * (0..<k).reduce(0.0) { $0 + Double(w[j * k + $1] * w[j * k + $1]) }.squareRoot()
                        worstFloat = max(worstFloat, abs(Double(c[i * ldc + j]) - float) / max(1e-30, norms))
                    }
                    for j in n..<ldc { XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j], "column \(j) beyond n must stay untouched") }
                }
                var portable = c0
                matrix.multiply(a, rows: m, lda: lda, into: &portable, ldc: ldc, accumulate: accumulate, portable: true)
                XCTAssertEqual(portable, c, "the portable loop and the \(Int8Matrix.usesVNNI ? "VNNI" : "portable") kernel differ")
                print("int8 product \(m)×\(n)×\(k)\(accumulate ? " +=" : ""): max scaled difference from the exact integer product \(worst) "
                      + "(tolerance 1e-6); from the float product \(worstFloat) of ‖a‖‖w‖ (tolerance 0.01)")
                XCTAssertLessThan(worst, 1e-6)
                XCTAssertLessThan(worstFloat, 0.01)
            }
        }
    }

    /// A NaN in an activation row makes that row's outputs NaN (as in float), not a quiet number;
    /// a row of tiny values (1/scale would overflow) is zero, not NaN.
    func testNaNPropagatesAndTinyRowsAreZero() {
        var rng = RandomGenerator(seed: 16)
        let (m, n, k) = (3, 20, 8)
        var a = randomArray(m * k, &rng)
        a[1 * k + 3] = .nan
        for c in 0..<k { a[2 * k + c] = c == 0 ? 1e-39 : 0 }
        let matrix = Int8Matrix(randomArray(n * k, &rng), rows: n, columns: k)
        var c = [Float](repeating: 0, count: m * n)
        for portable in [false, true] {
            matrix.multiply(a, rows: m, into: &c, accumulate: false, portable: portable)
            XCTAssertTrue(c[0..<n].allSatisfy(\.isFinite), "row 0 has no NaN")
            XCTAssertTrue(c[n..<2 * n].allSatisfy(\.isNaN), "row 1 holds a NaN: \(c[n..<2 * n])")
            XCTAssertEqual(Array(c[2 * n..<3 * n]), [Float](repeating: 0, count: n), "a subnormal row is zero at 8 bits")
        }
    }

    /// Each cell quantised against the same layer in float: the outputs and final states differ
    /// only by the quantisation error (bounded here by 0.03 on values in (−1, 1)), and not at
    /// all in shape or order (a wrong row block or stride would be off by O(1)).
    func testQuantisedCellsFollowTheirFloatSelves() {
        for cell in [CellKind.lem, .lstm, .gru] {
            var rng = RandomGenerator(seed: 13)
            let (m, d, T, B) = (11, 24, 7, 5)
            var layout = LayoutBuilder()
            cell.declare(&layout, layer: 0, inputSize: m, hiddenSize: d, dt: 1)
            let parameters = ParameterBlock(layout)
            let float = cell.makeLayer(parameters: parameters, layer: 0, inputSize: m, hiddenSize: d, dt: 1)
            defer { withExtendedLifetime(parameters) {} }   // the layers read the block through raw pointers
            float.initialize(&rng)
            let int8 = cell.makeLayer(parameters: parameters, layer: 0, inputSize: m, hiddenSize: d, dt: 1)
            int8.quantizeForInference()
            XCTAssertTrue(int8.isQuantized)
            let input = randomArray(T * B * m, &rng), h0 = randomArray(B * d, &rng, scale: 0.5)
            let c0: [Float]? = cell.hasCellState ? randomArray(B * d, &rng, scale: 0.5) : nil
            for layer in [float, int8] {
                c0.withOptionalPointer { c in
                    layer.forward(input: input, steps: T, batch: B, initialHidden: h0, initialCell: c, stateMask: nil, inputStaysValid: false)
                }
            }
            let outputs = maxAbsDifference(Array(UnsafeBufferPointer(start: int8.outputs, count: T * B * d)),
                                           Array(UnsafeBufferPointer(start: float.outputs, count: T * B * d)))
            var cells: Float = 0
            if let a = int8.finalCell, let b = float.finalCell {
                cells = maxAbsDifference(Array(UnsafeBufferPointer(start: a, count: B * d)), Array(UnsafeBufferPointer(start: b, count: B * d)))
            }
            print("int8 \(cell) layer: max |output − float output| \(outputs), final cell state \(cells) (tolerance 0.03)")
            XCTAssertLessThan(outputs, 0.03)
            XCTAssertLessThan(cells, 0.03)
            XCTAssertGreaterThan(outputs, 0, "the int8 layer must not silently run in float")
        }
    }

    func testQuantisedLanguageModelLossStaysClose() {
        var config = LanguageModelConfig(vocabularySize: 50, embeddingSize: 16, hiddenSize: 16, tied: true)
        config.layers = 2
        let model = LanguageModel(config: config)
        var rng = RandomGenerator(seed: 14)
        model.initialize(&rng)
        let int8 = LanguageModel(config: config, sharing: model)
        int8.quantizeForInference()
        let (T, B) = (9, 3)
        let tokens = (0..<T * B).map { _ in Int32(rng.next() % 50) }, targets = (0..<T * B).map { _ in Int32(rng.next() % 50) }
        var losses: [Double] = []
        for m in [model, int8] {
            var state = m.initialState(batch: B)
            losses.append(m.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &state, training: false, rng: &rng))
        }
        let relative = abs(losses[1] - losses[0]) / losses[0]
        print("int8 language model: loss \(losses[1]) vs float \(losses[0]), relative difference \(relative) (tolerance 0.01)")
        XCTAssertLessThan(relative, 0.01)
        XCTAssertNotEqual(losses[1], losses[0])
    }

    func testQuantisedClassifierLogitsStayClose() {
        var config = SequenceClassifierConfig(inputSize: 6, hiddenSize: 20, classCount: 4)
        config.cell = .gru
        let model = SequenceClassifier(config: config)
        var rng = RandomGenerator(seed: 15)
        model.initialize(&rng)
        let int8 = SequenceClassifier(config: config, sharing: model)
        int8.quantizeForInference()
        let (T, B) = (12, 4)
        let features = randomArray(T * B * 6, &rng)
        let float = Array(UnsafeBufferPointer(start: model.logits(features: features, steps: T, batch: B), count: B * 4))
        let quantised = Array(UnsafeBufferPointer(start: int8.logits(features: features, steps: T, batch: B), count: B * 4))
        let worst = maxAbsDifference(quantised, float)
        print("int8 classifier: max |logit − float logit| \(worst) (tolerance 0.05)")
        XCTAssertLessThan(worst, 0.05)
    }
}

private extension Optional where Wrapped == [Float] {
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .none: return body(nil)
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        }
    }
}

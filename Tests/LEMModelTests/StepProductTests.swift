import XCTest
@testable import LEMModel
@testable import Runtime

/// The oneDNN per-step product on packed weights (`StepProduct`) against OpenBLAS: the same
/// products in both orientations, and an LSTM layer whose forward and backward run through it
/// (thresholds lowered to reach small layers) against the same layer on OpenBLAS.
final class StepProductTests: XCTestCase {
    func testProductsEqualOpenBLAS() throws {
        var rng = RandomGenerator(seed: 3)
        for (m, n, k, transposeW, accumulate) in [(7, 48, 12, true, true), (5, 12, 48, false, false), (16, 64, 64, true, false)] {
            let a = randomArray(m * k, &rng), w = randomArray(n * k, &rng), c0 = randomArray(m * n, &rng)
            var expected = c0, got = c0
            gemm(transposeB: transposeW, m: m, n: n, k: k, a, lda: k, w, ldb: transposeW ? k : n, beta: accumulate ? 1 : 0, &expected, ldc: n)
            let product = try XCTUnwrap(StepProduct(m: m, n: n, k: k, transposeW: transposeW, accumulate: accumulate))
            product.pack(w)
            for _ in 0..<2 {   // the packed weights serve any number of steps
                got = c0
                product.multiply(a, into: &got)
            }
            let worst = zip(got, expected).map { Double(abs($0 - $1)) }.max()!
            print("oneDNN step product \(m)×\(n)×\(k)\(transposeW ? " (Wᵀ)" : "")\(accumulate ? " +=" : ""): max |difference| from OpenBLAS \(worst) (tolerance 1e-5)")
            XCTAssertLessThan(worst, 1e-5)
        }
    }

    /// Column blocks of wider matrices, as the LEM's gate matrix: A and C with row strides.
    func testStridedProductsEqualOpenBLAS() throws {
        var rng = RandomGenerator(seed: 4)
        for (m, n, k, lda, ldc, transposeW, accumulate) in [(6, 24, 8, 8, 32, true, true), (6, 8, 24, 32, 8, false, true), (6, 8, 24, 32, 8, false, false)] {
            let a = randomArray(m * lda, &rng), w = randomArray(n * k, &rng), c0 = randomArray(m * ldc, &rng)
            var expected = c0, got = c0
            gemm(transposeB: transposeW, m: m, n: n, k: k, a, lda: lda, w, ldb: transposeW ? k : n, beta: accumulate ? 1 : 0, &expected, ldc: ldc)
            let product = try XCTUnwrap(StepProduct(m: m, n: n, k: k, lda: lda, ldc: ldc, transposeW: transposeW, accumulate: accumulate),
                                        "oneDNN could not build the strided product \(m)×\(n)×\(k)")
            product.pack(w)
            product.multiply(a, into: &got)
            let worst = zip(got, expected).map { Double(abs($0 - $1)) }.max()!
            print("oneDNN strided step product \(m)×\(n)×\(k) (lda \(lda), ldc \(ldc)): max |difference| from OpenBLAS \(worst) (tolerance 1e-5)")
            XCTAssertLessThan(worst, 1e-5)
        }
    }

    func testLSTMThroughOneDNNEqualsOpenBLAS() {
        let (m, d, T, B) = (6, 40, 9, 8)
        func run(oneDNN: Bool) -> [[Float]] {
            let restore = reachSmallLayers(oneDNN)
            defer { restore() }
            var rng = RandomGenerator(seed: 8)
            let config = GatedCellConfig(inputSize: m, hiddenSize: d)
            var layout = LayoutBuilder()
            LSTMLayer.declare(&layout, prefix: "rnn.", layer: 0, config: config)
            let block = ParameterBlock(layout)
            let layer = LSTMLayer(config: config, parameters: block, prefix: "rnn.", layer: 0)
            layer.initialize(&rng)
            let input = randomArray(T * B * m, &rng), outGrad = randomArray(T * B * d, &rng)
            defer { withExtendedLifetime(input) {} }   // the backward reads the input again
            block.zeroGrads()
            var dInput = [Float](repeating: 0, count: T * B * m)
            input.withUnsafeBufferPointer { layer.forward(input: $0.baseAddress!, steps: T, batch: B, inputStaysValid: true) }
            let outputs = Array(UnsafeBufferPointer(start: layer.outputs, count: T * B * d))
            outGrad.withUnsafeBufferPointer { g in
                dInput.withUnsafeMutableBufferPointer { layer.backward(outputGrad: g.baseAddress!, inputGrad: $0.baseAddress!) }
            }
            return [outputs, dInput, Array(UnsafeBufferPointer(start: block.grads, count: block.count))]
        }
        assertSame(run(oneDNN: false), run(oneDNN: true), layer: "LSTM")
    }

    /// The LEM's four per-step products (W_h and W_z, forward and backward, on column blocks of
    /// the gate matrix) through oneDNN, with and without state dropout.
    func testLEMThroughOneDNNEqualsOpenBLAS() {
        let (m, d, T, B) = (5, 24, 7, 6)
        for withMask in [false, true] {
            func run(oneDNN: Bool) -> [[Float]] {
                let restore = reachSmallLayers(oneDNN)
                defer { restore() }
                var rng = RandomGenerator(seed: 12)
                let config = LEMConfig(inputSize: m, hiddenSize: d, dt: 0.7)
                var layout = LayoutBuilder()
                LEMLayer.declare(&layout, prefix: "lem.", config: config)
                let block = ParameterBlock(layout)
                let layer = LEMLayer(config: config, parameters: block, prefix: "lem.")
                layer.initialize(&rng)
                let input = randomArray(T * B * m, &rng), outGrad = randomArray(T * B * d, &rng)
                defer { withExtendedLifetime(input) {} }   // the backward reads the input again
            defer { withExtendedLifetime(input) {} }   // the backward reads the input again
                var mask = [Float](repeating: 0, count: B * d)
                fillDropoutMask(&mask, count: B * d, probability: 0.3, rng: &rng)
                block.zeroGrads()
                var dInput = [Float](repeating: 0, count: T * B * m)
                input.withUnsafeBufferPointer { u in
                    mask.withUnsafeBufferPointer { mk in
                        layer.forward(input: u.baseAddress!, steps: T, batch: B, stateMask: withMask ? mk.baseAddress : nil, inputStaysValid: true)
                    }
                }
                let outputs = Array(UnsafeBufferPointer(start: layer.outputs, count: T * B * d))
                outGrad.withUnsafeBufferPointer { g in
                    dInput.withUnsafeMutableBufferPointer { layer.backward(outputGrad: g.baseAddress!, inputGrad: $0.baseAddress!) }
                }
                return [outputs, dInput, Array(UnsafeBufferPointer(start: block.grads, count: block.count))]
            }
            assertSame(run(oneDNN: false), run(oneDNN: true), layer: withMask ? "LEM with state dropout" : "LEM")
        }
    }

    /// The GRU's four per-step products (W_h(r,z) into a column block of X, W_hn into the
    /// candidate term, and their transposes) through oneDNN, with and without state dropout.
    func testGRUThroughOneDNNEqualsOpenBLAS() {
        let (m, d, T, B) = (7, 20, 8, 5)
        for withMask in [false, true] {
            func run(oneDNN: Bool) -> [[Float]] {
                let restore = reachSmallLayers(oneDNN)
                defer { restore() }
                var rng = RandomGenerator(seed: 14)
                let config = GatedCellConfig(inputSize: m, hiddenSize: d)
                var layout = LayoutBuilder()
                GRULayer.declare(&layout, prefix: "rnn.", layer: 0, config: config)
                let block = ParameterBlock(layout)
                let layer = GRULayer(config: config, parameters: block, prefix: "rnn.", layer: 0)
                layer.initialize(&rng)
                let input = randomArray(T * B * m, &rng), outGrad = randomArray(T * B * d, &rng), h0 = randomArray(B * d, &rng)
                defer { withExtendedLifetime(input) {} }   // the backward reads the input again
                var mask = [Float](repeating: 0, count: B * d)
                fillDropoutMask(&mask, count: B * d, probability: 0.3, rng: &rng)
                block.zeroGrads()
                var dInput = [Float](repeating: 0, count: T * B * m), dH0 = [Float](repeating: 0, count: B * d)
                input.withUnsafeBufferPointer { u in
                    mask.withUnsafeBufferPointer { mk in
                        layer.forward(input: u.baseAddress!, steps: T, batch: B, initialHidden: h0,
                                      stateMask: withMask ? mk.baseAddress : nil, inputStaysValid: true)
                    }
                }
                let outputs = Array(UnsafeBufferPointer(start: layer.outputs, count: T * B * d))
                outGrad.withUnsafeBufferPointer { g in
                    dInput.withUnsafeMutableBufferPointer { dx in
                        dH0.withUnsafeMutableBufferPointer { layer.backward(outputGrad: g.baseAddress!, inputGrad: dx.baseAddress!, initialHiddenGrad: $0.baseAddress!) }
                    }
                }
                return [outputs, dInput + dH0, Array(UnsafeBufferPointer(start: block.grads, count: block.count))]
            }
            assertSame(run(oneDNN: false), run(oneDNN: true), layer: withMask ? "GRU with state dropout" : "GRU")
        }
    }

    /// With `oneDNN`, lowers the product policy's thresholds so that small test layers take the
    /// oneDNN path; returns what puts them back.
    func reachSmallLayers(_ oneDNN: Bool) -> () -> Void {
        let saved = ProductPolicy.current
        if oneDNN { (ProductPolicy.current.packedMinimumHidden, ProductPolicy.current.packedMinimumBatch) = (1, 1) }
        return { ProductPolicy.current = saved }
    }

    /// Outputs, input gradient and parameter gradients of a layer on OpenBLAS and through oneDNN:
    /// equal within 1e-5 of each one's largest entry.
    func assertSame(_ blas: [[Float]], _ dnnl: [[Float]], layer: String, file: StaticString = #filePath, line: UInt = #line) {
        for (name, (a, b)) in zip(["outputs", "input gradient", "parameter gradients"], zip(blas, dnnl)) {
            let scale = a.map { Double(abs($0)) }.max()!
            let worst = zip(a, b).map { Double(abs($0 - $1)) }.max()! / scale
            print("\(layer) \(name) through oneDNN against OpenBLAS: max scaled difference \(worst) (tolerance 1e-5)")
            XCTAssertLessThan(worst, 1e-5, name, file: file, line: line)
        }
    }
}

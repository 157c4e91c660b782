import XCTest
@testable import LEMModel
@testable import Runtime

/// libxsmm's kernels for the small single-threaded products (`gemm` in Runtime/BLAS.swift)
/// against OpenBLAS: the products themselves (row strides, β = 0 and 1), and a LEM layer's
/// forward and backward run on one BLAS thread, where its per-step products take that path.
final class SmallKernelTests: XCTestCase {
    override func tearDown() { ProductPolicy.current = .fromEnvironment }

    func testProductsEqualOpenBLAS() {
        var rng = RandomGenerator(seed: 21)
        for (m, n, k, lda, ldb, ldc, beta) in [(50, 384, 128, 128, 384, 512, Float(1)), (32, 256, 768, 1024, 256, 256, 0),
                                               (7, 13, 5, 5, 13, 13, 1), (64, 1024, 64, 64, 1024, 1024, 0)] {
            let a = randomArray(m * lda, &rng), b = randomArray(k * ldb, &rng), c0 = randomArray(m * ldc, &rng)
            var results: [[Float]] = []
            for small in [false, true] {
                ProductPolicy.current.smallKernels = small
                var c = c0
                withSingleThreadedBLAS { gemm(m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: beta, &c, ldc: ldc) }
                results.append(c)
            }
            // Relative to the largest entry (sums of k terms of both signs: single entries may cancel to ~0).
            let largest = results[0].map { Double(abs($0)) }.max()!
            let worst = zip(results[1], results[0]).map { Double(abs($0 - $1)) }.max()! / max(1, largest)
            print("small kernel \(m)×\(n)×\(k) (lda \(lda), ldb \(ldb), ldc \(ldc), β \(beta)): max difference from OpenBLAS \(worst) of the largest entry (tolerance 1e-5)")
            XCTAssertLessThan(worst, 1e-5)
            for i in 0..<m { for j in n..<ldc { XCTAssertEqual(results[1][i * ldc + j], c0[i * ldc + j], "column \(j) beyond n") } }
        }
    }

    func testLEMLayerOnOneThreadEqualsOpenBLAS() {
        let (m, d, T, B) = (12, 32, 6, 20)
        var outputs: [[Float]] = [], grads: [[Float]] = []
        for small in [false, true] {
            ProductPolicy.current.smallKernels = small
            var rng = RandomGenerator(seed: 22)
            var layout = LayoutBuilder()
            LEMLayer.declare(&layout, prefix: "lem.", config: LEMConfig(inputSize: m, hiddenSize: d))
            let parameters = ParameterBlock(layout)
            let layer = LEMLayer(config: LEMConfig(inputSize: m, hiddenSize: d), parameters: parameters, prefix: "lem.")
            layer.initialize(&rng)
            let input = randomArray(T * B * m, &rng), outputGrad = randomArray(T * B * d, &rng)
            withSingleThreadedBLAS {
                layer.forward(input: input, steps: T, batch: B, initialHidden: nil, initialCell: nil, stateMask: nil, inputStaysValid: false)
                layer.backward(outputGrad: outputGrad, finalHiddenGrad: nil, finalCellGrad: nil, inputGrad: nil, initialHiddenGrad: nil, initialCellGrad: nil)
            }
            outputs.append(Array(UnsafeBufferPointer(start: layer.outputs, count: T * B * d)))
            grads.append(Array(UnsafeBufferPointer(start: parameters.grads, count: parameters.count)))
        }
        let worstOutput = maxAbsDifference(outputs[1], outputs[0])
        let scale = grads[0].map(abs).max()!
        let worstGrad = maxAbsDifference(grads[1], grads[0]) / scale
        print("LEM layer on one BLAS thread, libxsmm vs OpenBLAS: max |output difference| \(worstOutput) (tolerance 1e-5), "
              + "max gradient difference \(worstGrad) of the largest (tolerance 1e-5)")
        XCTAssertLessThan(worstOutput, 1e-5)
        XCTAssertLessThan(worstGrad, 1e-5)
    }
}

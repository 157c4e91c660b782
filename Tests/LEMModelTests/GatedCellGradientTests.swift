import XCTest
@testable import LEMModel
@testable import Runtime

/// Finite-difference checks of the LSTM and GRU layers: the Float analytic gradients against
/// central differences of independent Double implementations of PyTorch's equations
/// (`ReferenceGatedCell`).
///
/// Loss: L = Σ w_out ⊙ h_{1…T} + Σ w_h ⊙ h_T (+ Σ w_c ⊙ c_T for the LSTM) with random weights, so
/// every output step and the final state feed the gradient. Tolerance: 2e-5 of each tensor's
/// largest entry, as for the LEM.
final class GatedCellGradientTests: XCTestCase {
    let tolerance = 2e-5

    func makeLayer(_ kind: GatedCellKind, m: Int, d: Int) -> (any RecurrentLayer, ParameterBlock) {
        let config = GatedCellConfig(inputSize: m, hiddenSize: d)
        var layout = LayoutBuilder()
        switch kind {
        case .lstm: LSTMLayer.declare(&layout, prefix: "rnn.", layer: 0, config: config)
        case .gru: GRULayer.declare(&layout, prefix: "rnn.", layer: 0, config: config)
        }
        let block = ParameterBlock(layout)
        let layer: any RecurrentLayer = kind == .lstm
            ? LSTMLayer(config: config, parameters: block, prefix: "rnn.", layer: 0)
            : GRULayer(config: config, parameters: block, prefix: "rnn.", layer: 0)
        return (layer, block)
    }

    func check(_ kind: GatedCellKind, m: Int, d: Int, T: Int, B: Int, stateDropout: Bool, seed: UInt64) {
        var rng = RandomGenerator(seed: seed)
        let (layer, block) = makeLayer(kind, m: m, d: d)
        layer.initialize(&rng)
        // Larger weights than the default init so the gates use their whole range.
        for i in 0..<block.count { block.values[i] *= 2.5 }
        let hasCell = layer.hasCellState
        XCTAssertEqual(hasCell, kind == .lstm)

        let input = randomArray(T * B * m, &rng)
        let h0 = randomArray(B * d, &rng, scale: 0.5), c0 = hasCell ? randomArray(B * d, &rng, scale: 0.5) : []
        let wOut = randomArray(T * B * d, &rng), wH = randomArray(B * d, &rng), wC = hasCell ? randomArray(B * d, &rng) : []
        var mask: [Float]? = nil
        if stateDropout {
            var m = [Float](repeating: 0, count: B * d)
            fillDropoutMask(&m, count: B * d, probability: 0.3, rng: &rng)
            mask = m
        }

        // Analytic gradients (Float).
        block.zeroGrads()
        var dInput = [Float](repeating: 0, count: T * B * m)
        var dH0 = [Float](repeating: 0, count: B * d), dC0 = [Float](repeating: 0, count: B * d)
        input.withUnsafeBufferPointer { u in
            h0.withUnsafeBufferPointer { h in
                c0.withUnsafeBufferPointer { c in
                    mask.withUnsafeBufferPointer(or: nil) { mk in
                        layer.forward(input: u.baseAddress!, steps: T, batch: B, initialHidden: h.baseAddress,
                                      initialCell: hasCell ? c.baseAddress : nil, stateMask: mk, inputStaysValid: true)
                    }
                }
            }
        }
        let floatOutputs = Array(UnsafeBufferPointer(start: layer.outputs, count: T * B * d))
        let floatFinal = Array(UnsafeBufferPointer(start: layer.finalHidden, count: B * d))
        XCTAssertEqual(Array(floatOutputs.suffix(B * d)), floatFinal, "the final hidden state is the last output")
        wOut.withUnsafeBufferPointer { wo in
            wH.withUnsafeBufferPointer { wh in
                wC.withUnsafeBufferPointer { wc in
                    dInput.withUnsafeMutableBufferPointer { di in
                        dH0.withUnsafeMutableBufferPointer { dh in
                            dC0.withUnsafeMutableBufferPointer { dc in
                                layer.backward(outputGrad: wo.baseAddress!, finalHiddenGrad: wh.baseAddress!,
                                               finalCellGrad: hasCell ? wc.baseAddress : nil, inputGrad: di.baseAddress,
                                               initialHiddenGrad: dh.baseAddress, initialCellGrad: hasCell ? dc.baseAddress : nil)
                            }
                        }
                    }
                }
            }
        }

        // Double reference and its numerical gradients.
        var reference = ReferenceGatedCell(kind: kind, m: m, d: d)
        reference.flatParameters = ReferenceGatedCell.parameterNames.map { block.parameter("rnn." + $0).values.map(Double.init) }
        let (dIn, dh0, dc0) = (input.map(Double.init), h0.map(Double.init), c0.map(Double.init))
        let dMask = mask?.map(Double.init)
        func loss(_ r: ReferenceGatedCell, _ u: [Double], _ h: [Double], _ c: [Double]) -> Double {
            let (out, hT, cT) = r.forward(u, T: T, B: B, h0: h, c0: c, mask: dMask)
            var s = 0.0
            for i in out.indices { s += out[i] * Double(wOut[i]) }
            for i in hT.indices { s += hT[i] * Double(wH[i]) }
            for i in wC.indices { s += cT[i] * Double(wC[i]) }
            return s
        }
        let refForward = reference.forward(dIn, T: T, B: B, h0: dh0, c0: dc0, mask: dMask)
        let forwardError = scaledMaxError(floatOutputs, refForward.outputs)
        XCTAssertLessThan(forwardError, 1e-5, "forward outputs differ from the Double reference")
        var report = ["forward outputs: \(forwardError)"]
        if hasCell {
            let cellError = scaledMaxError(Array(UnsafeBufferPointer(start: layer.finalCell!, count: B * d)), refForward.c)
            XCTAssertLessThan(cellError, 1e-5, "final cell state differs from the Double reference")
            report.append("final cell: \(cellError)")
        }

        for (k, name) in ReferenceGatedCell.parameterNames.enumerated() {
            let numeric = numericalGradient(at: reference.flatParameters[k]) { p in
                var r = reference; r.flatParameters[k] = p; return loss(r, dIn, dh0, dc0)
            }
            let err = scaledMaxError(block.parameter("rnn." + name).grads, numeric)
            report.append("\(name): \(err)")
            XCTAssertLessThan(err, tolerance, "∂L/∂\(name): max scaled error \(err), tolerance \(tolerance)")
        }
        var checks: [(String, [Float], [Double])] = [
            ("input", dInput, numericalGradient(at: dIn) { loss(reference, $0, dh0, dc0) }),
            ("h0", dH0, numericalGradient(at: dh0) { loss(reference, dIn, $0, dc0) }),
        ]
        if hasCell { checks.append(("c0", dC0, numericalGradient(at: dc0) { loss(reference, dIn, dh0, $0) })) }
        for (name, analytic, numeric) in checks {
            let err = scaledMaxError(analytic, numeric)
            report.append("\(name): \(err)")
            XCTAssertLessThan(err, tolerance, "∂L/∂\(name): max scaled error \(err), tolerance \(tolerance)")
        }
        print("\(kind) gradient check m=\(m) d=\(d) T=\(T) B=\(B) stateDropout=\(stateDropout): max scaled errors " + report.joined(separator: ", "))
    }

    func testLSTMGradientsOverTwentyStepsWithInitialState() { check(.lstm, m: 3, d: 4, T: 20, B: 2, stateDropout: false, seed: 1) }
    func testLSTMGradientsWithLockedStateDropout() { check(.lstm, m: 3, d: 5, T: 21, B: 3, stateDropout: true, seed: 2) }
    func testLSTMGradientsOfASingleStep() { check(.lstm, m: 2, d: 17, T: 1, B: 2, stateDropout: false, seed: 3) }
    func testGRUGradientsOverTwentyStepsWithInitialState() { check(.gru, m: 3, d: 4, T: 20, B: 2, stateDropout: false, seed: 4) }
    func testGRUGradientsWithLockedStateDropout() { check(.gru, m: 3, d: 5, T: 21, B: 3, stateDropout: true, seed: 5) }
    func testGRUGradientsOfASingleStep() { check(.gru, m: 2, d: 17, T: 1, B: 2, stateDropout: false, seed: 6) }

    /// The workspace is reused: a second pass over a shorter sequence must not see stale data.
    func testRepeatedForwardBackwardGivesTheSameGradients() {
        for kind in [GatedCellKind.lstm, .gru] {
            let (layer, block) = makeLayer(kind, m: 2, d: 3)
            var rng = RandomGenerator(seed: 9)
            layer.initialize(&rng)
            let long = randomArray(10 * 2 * 2, &rng), short = Array(long.prefix(4 * 2 * 2))
            func grads(_ u: [Float], _ T: Int) -> [Float] {
                block.zeroGrads()
                let ones = [Float](repeating: 1, count: T * 2 * 3)
                layer.forward(input: u, steps: T, batch: 2, initialHidden: nil, initialCell: nil, stateMask: nil, inputStaysValid: false)
                layer.backward(outputGrad: ones, finalHiddenGrad: nil, finalCellGrad: nil, inputGrad: nil, initialHiddenGrad: nil, initialCellGrad: nil)
                return Array(UnsafeBufferPointer(start: block.grads, count: block.count))
            }
            let first = grads(short, 4)
            _ = grads(long, 10)
            XCTAssertEqual(grads(short, 4), first, "\(kind)")
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's elements, or with `none` when there is no array.
    func withUnsafeBufferPointer<R>(or none: UnsafePointer<Float>?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let array = self else { return body(none) }
        return array.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

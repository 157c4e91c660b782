import XCTest
@testable import LEMModel
@testable import Runtime

/// Finite-difference checks of two stacked layers of each cell as the models run them
/// (`RecurrentStack`: the second layer reads the first's outputs through locked dropout, and each
/// layer's state enters its recurrent product through its own state mask), against the Double
/// references of the single layers composed the same way.
///
/// Loss: L = Σ w_out ⊙ (top outputs) + Σ w_h ⊙ (top final hidden state); the initial states of
/// both layers are non-zero. Tolerance: 2e-5 of each tensor's largest entry.
final class StackGradientTests: XCTestCase {
    let tolerance = 2e-5

    /// A Double reference layer: outputs [T, B, d], final hidden, final cell.
    typealias ReferenceLayer = (_ parameters: [[Double]], _ input: [Double], _ h0: [Double], _ c0: [Double], _ mask: [Double]?)
        -> (outputs: [Double], h: [Double], c: [Double])

    func parameterNames(_ cell: CellKind, layer k: Int) -> [String] {
        switch cell {
        case .lem: return ReferenceLEM.parameterNames.map { CellKind.lemPrefix(layer: k) + $0 }
        case .lstm, .gru: return ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map { "rnn.\($0)_l\(k)" }
        case .lru: preconditionFailure("LRU blocks are checked by LRUBlockTests (a PyTorch reference of two stacked blocks)")
        }
    }

    func reference(_ cell: CellKind, inputSize m: Int, d: Int, T: Int, B: Int, dt: Double) -> ReferenceLayer {
        { p, u, h0, c0, mask in
            switch cell {
            case .lem:
                var r = ReferenceLEM(m: m, d: d, dt: dt, inp2hidW: [], inp2hidB: [], hid2hidW: [], hid2hidB: [], transformW: [], transformB: [])
                r.flatParameters = p
                let (out, y, z) = r.forward(u, T: T, B: B, y0: h0, z0: c0, mask: mask)
                return (out, y, z)
            case .lstm, .gru:
                var r = ReferenceGatedCell(kind: cell == .lstm ? .lstm : .gru, m: m, d: d)
                r.flatParameters = p
                return r.forward(u, T: T, B: B, h0: h0, c0: c0, mask: mask)
            case .lru:
                preconditionFailure("LRU blocks are checked by LRUBlockTests (a PyTorch reference of two stacked blocks)")
            }
        }
    }

    func check(_ cell: CellKind, seed: UInt64) throws {
        let (m, d, T, B, L) = (3, 4, 12, 2, 2)
        let dt: Float = 0.8
        var rng = RandomGenerator(seed: seed)
        var layout = LayoutBuilder()
        RecurrentStack.declare(&layout, cell: cell, layers: L, inputSize: m, hiddenSize: d, dt: dt)
        let block = ParameterBlock(layout)
        let stack = RecurrentStack(cell: cell, layers: L, inputSize: m, hiddenSize: d, dt: dt, parameters: block,
                                   stateDropout: 0.3, layerDropout: 0.3)
        stack.initialize(&rng)
        for i in 0..<block.count { block.values[i] *= 2.5 }
        let input = randomArray(T * B * m, &rng)
        let h0 = randomArray(L * B * d, &rng, scale: 0.5), c0 = cell.hasCellState ? randomArray(L * B * d, &rng, scale: 0.5) : []
        let wOut = randomArray(T * B * d, &rng), wH = randomArray(B * d, &rng)

        block.zeroGrads()
        var streams = StreamGenerators(seed: rng.next(), first: 0, count: B)
        stack.sampleMasks(training: true, batch: B, streams: &streams)
        var dInput = [Float](repeating: 0, count: T * B * m)
        input.withUnsafeBufferPointer { u in
            h0.withUnsafeBufferPointer { h in
                c0.withUnsafeBufferPointer { c in
                    stack.forward(input: u.baseAddress!, steps: T, batch: B, initialHidden: h.baseAddress, initialCell: c.baseAddress)
                }
            }
        }
        let floatOutputs = Array(UnsafeBufferPointer(start: stack.top.outputs, count: T * B * d))
        stack.backward(outputGrad: wOut, finalHiddenGrad: wH, inputGrad: &dInput)

        // The masks the stack drew, and the Double composition of the two layers.
        let stateMasks = stack.stateDropouts.map { Array(UnsafeBufferPointer(start: $0.mask!, count: B * d)).map(Double.init) }
        let layerMask = Array(UnsafeBufferPointer(start: stack.layerDropouts[0].mask!, count: B * d)).map(Double.init)
        XCTAssertTrue(stateMasks.allSatisfy { $0.contains(0) } && layerMask.contains(0), "the masks drop something")
        let names = (0..<L).map { parameterNames(cell, layer: $0) }
        let references = (0..<L).map { reference(cell, inputSize: $0 == 0 ? m : d, d: d, T: T, B: B, dt: Double(dt)) }
        func forward(_ p: [[[Double]]], _ u: [Double]) -> (outputs: [Double], h: [Double]) {
            var x = u, last: (outputs: [Double], h: [Double], c: [Double]) = ([], [], [])
            for k in 0..<L {
                let hk = Array(h0[k * B * d ..< (k + 1) * B * d]).map(Double.init)
                let ck = cell.hasCellState ? Array(c0[k * B * d ..< (k + 1) * B * d]).map(Double.init) : []
                last = references[k](p[k], x, hk, ck, stateMasks[k])
                x = last.outputs
                if k < L - 1 { x = x.indices.map { x[$0] * layerMask[$0 % (B * d)] } }
            }
            return (last.outputs, last.h)
        }
        func loss(_ p: [[[Double]]], _ u: [Double]) -> Double {
            let (out, hT) = forward(p, u)
            return zip(out, wOut).reduce(0) { $0 + $1.0 * Double($1.1) } + zip(hT, wH).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        let parameters = names.map { $0.map { block.parameter($0).values.map(Double.init) } }
        let dIn = input.map(Double.init)
        let forwardError = scaledMaxError(floatOutputs, forward(parameters, dIn).outputs)
        XCTAssertLessThan(forwardError, 1e-5, "forward outputs differ from the Double reference")
        var report = ["forward: \(forwardError)"]
        for k in 0..<L {
            for (j, name) in names[k].enumerated() {
                let numeric = numericalGradient(at: parameters[k][j]) { v in
                    var p = parameters; p[k][j] = v; return loss(p, dIn)
                }
                let err = scaledMaxError(block.parameter(name).grads, numeric)
                report.append("\(name): \(err)")
                XCTAssertLessThan(err, tolerance, "∂L/∂\(name): max scaled error \(err), tolerance \(tolerance)")
            }
        }
        let inputError = scaledMaxError(dInput, numericalGradient(at: dIn) { loss(parameters, $0) })
        report.append("input: \(inputError)")
        XCTAssertLessThan(inputError, tolerance, "∂L/∂input: max scaled error \(inputError)")
        print("\(cell) × \(L) stack gradient check (state and layer dropout): max scaled errors " + report.joined(separator: ", "))
    }

    func testTwoLEMLayers() throws { try check(.lem, seed: 31) }
    func testTwoLSTMLayers() throws { try check(.lstm, seed: 32) }
    func testTwoGRULayers() throws { try check(.gru, seed: 33) }
}

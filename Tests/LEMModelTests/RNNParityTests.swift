import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// Parity of the LSTM and GRU layers with `torch.nn.LSTM` / `torch.nn.GRU`, and of two stacked LEM
/// layers with two of the authors' `LEMCell`s (tools/reference/make_rnn_fixtures.py, computed in
/// float64, stored as float32): outputs, final states, every gradient, for one layer and for two
/// stacked layers (the second reads the first's outputs), and the losses and parameters after 3
/// Adam steps with gradient clipping. The layers are built and named by `CellKind`, as the models
/// build them, so the fixtures' PyTorch names check the checkpoint names too.
///
/// Criterion per entry, as for the LEM: |ours − reference| ≤ 1e-5 + 1e-4·|reference|.
final class RNNParityTests: XCTestCase {
    func fixture(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile.read(path: ReferenceParityTests.fixtures.appendingPathComponent(name).path)
    }

    func compare(_ ours: UnsafePointer<Float>, _ count: Int, _ reference: [Float], _ what: String) {
        compareToReference(Array(UnsafeBufferPointer(start: ours, count: count)), reference, what)
    }

    /// The layers of a fixture, reading their parameters from it under "rnn.".
    /// The layers of a fixture, with its parameters (under PyTorch's names) loaded. `lstm` here
    /// means "has a second state" (LSTM's c, LEM's z).
    func layers(_ f: SafeTensorsFile) throws -> (layers: [any RecurrentLayer], block: ParameterBlock, lstm: Bool) {
        let (layerCount, m, d) = (Int(f.metadata["layers"]!)!, Int(f.metadata["m"]!)!, Int(f.metadata["d"]!)!)
        let cell = try XCTUnwrap(CellKind(rawValue: f.metadata["cell"]!))
        let dt = Float(f.metadata["dt"]!)!
        var layout = LayoutBuilder()
        for k in 0..<layerCount { cell.declare(&layout, layer: k, inputSize: k == 0 ? m : d, hiddenSize: d, dt: dt) }
        let block = ParameterBlock(layout)
        try block.load(from: f)
        let layers = (0..<layerCount).map { k in cell.makeLayer(parameters: block, layer: k, inputSize: k == 0 ? m : d, hiddenSize: d, dt: dt) }
        return (layers, block, cell.hasCellState)
    }

    /// Forward and backward of the stack on the fixture's input, initial states and loss weights;
    /// returns the loss and leaves the gradients in the block and in `grads` (input, h0, c0).
    func run(_ stack: [any RecurrentLayer], _ f: SafeTensorsFile, lstm: Bool, T: Int, B: Int, m: Int, d: Int)
        throws -> (loss: Double, grads: [String: [Float]]) {
        let bd = B * d
        let input = try f.floats("input"), h0 = try f.floats("h0"), c0 = lstm ? try f.floats("c0") : []
        let wOut = try f.floats("loss_weight.output"), wH = try f.floats("loss_weight.h_n"), wC = lstm ? try f.floats("loss_weight.c_n") : []
        var layerInput = input
        for (k, layer) in stack.enumerated() {
            let hInit = Array(h0[k * bd ..< (k + 1) * bd]), cInit = lstm ? Array(c0[k * bd ..< (k + 1) * bd]) : []
            hInit.withUnsafeBufferPointer { h in
                cInit.withUnsafeBufferPointer { c in
                    layer.forward(input: layerInput, steps: T, batch: B, initialHidden: h.baseAddress, initialCell: lstm ? c.baseAddress : nil,
                                  stateMask: nil, inputStaysValid: false)
                }
            }
            layerInput = Array(UnsafeBufferPointer(start: layer.outputs, count: T * bd))
        }
        var loss = 0.0
        for i in 0..<T * bd { loss += Double(layerInput[i]) * Double(wOut[i]) }
        for (k, layer) in stack.enumerated() {
            for j in 0..<bd { loss += Double(layer.finalHidden[j]) * Double(wH[k * bd + j]) }
            if lstm { for j in 0..<bd { loss += Double(layer.finalCell![j]) * Double(wC[k * bd + j]) } }
        }

        var outputGrad = wOut
        var dH0 = [Float](repeating: 0, count: stack.count * bd), dC0 = dH0
        var dInput: [Float] = []
        for k in stride(from: stack.count - 1, through: 0, by: -1) {
            let layer = stack[k]
            var below = [Float](repeating: 0, count: T * B * (k == 0 ? m : d))
            let hGrad = Array(wH[k * bd ..< (k + 1) * bd]), cGrad = lstm ? Array(wC[k * bd ..< (k + 1) * bd]) : []
            var dh = [Float](repeating: 0, count: bd), dc = dh
            hGrad.withUnsafeBufferPointer { hg in
                cGrad.withUnsafeBufferPointer { cg in
                    dc.withUnsafeMutableBufferPointer { dcp in
                        layer.backward(outputGrad: outputGrad, finalHiddenGrad: hg.baseAddress, finalCellGrad: lstm ? cg.baseAddress : nil,
                                       inputGrad: &below, initialHiddenGrad: &dh, initialCellGrad: lstm ? dcp.baseAddress : nil)
                    }
                }
            }
            dH0.replaceSubrange(k * bd ..< (k + 1) * bd, with: dh)
            dC0.replaceSubrange(k * bd ..< (k + 1) * bd, with: dc)
            outputGrad = below
            dInput = below
        }
        var grads = ["input": dInput, "h0": dH0]
        if lstm { grads["c0"] = dC0 }
        return (loss, grads)
    }

    func check(_ name: String) throws {
        let f = try fixture(name)
        let (T, B, m, d) = (Int(f.metadata["T"]!)!, Int(f.metadata["B"]!)!, Int(f.metadata["m"]!)!, Int(f.metadata["d"]!)!)
        let (stack, block, lstm) = try layers(f)
        print("\(name): \(f.metadata["cell"]!) × \(stack.count), T=\(T) B=\(B) m=\(m) d=\(d)")
        block.zeroGrads()
        let (loss, grads) = try run(stack, f, lstm: lstm, T: T, B: B, m: m, d: d)
        compare(stack.last!.outputs, T * B * d, try f.floats("output"), "output")
        let bd = B * d
        let hn = try f.floats("h_n"), cn = lstm ? try f.floats("c_n") : []
        for (k, layer) in stack.enumerated() {
            compare(layer.finalHidden, bd, Array(hn[k * bd ..< (k + 1) * bd]), "h_n[\(k)]")
            if lstm { compare(layer.finalCell!, bd, Array(cn[k * bd ..< (k + 1) * bd]), "c_n[\(k)]") }
        }
        compareToReference([Float(loss)], try f.floats("loss"), "loss")
        for spec in block.specs {
            compareToReference(block.parameter(spec.name).grads, try f.floats("grad." + spec.name), "grad." + spec.name)
        }
        for (what, values) in grads.sorted(by: { $0.key < $1.key }) {
            compareToReference(values, try f.floats("grad." + what), "grad." + what)
        }

        guard f.tensors["adam.losses"] != nil else { return }
        let reloaded = try layers(f)
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: reloaded.block.count)
        var losses: [Float] = []
        for _ in 0..<3 {
            reloaded.block.zeroGrads()
            losses.append(Float(try run(reloaded.layers, f, lstm: lstm, T: T, B: B, m: m, d: d).loss))
            _ = clipGradientNorm(reloaded.block, maxNorm: 1)
            adam.step(reloaded.block, learningRate: 0.01)
        }
        losses.append(Float(try run(reloaded.layers, f, lstm: lstm, T: T, B: B, m: m, d: d).loss))
        compareToReference(losses, try f.floats("adam.losses"), "adam.losses")
        for spec in reloaded.block.specs {
            compareToReference(reloaded.block.parameter(spec.name).values, try f.floats("adam." + spec.name), "adam." + spec.name)
        }
    }

    func testLSTMLayerMatchesTorch() throws { try check("lstm_layer.safetensors") }
    func testGRULayerMatchesTorch() throws { try check("gru_layer.safetensors") }
    func testTwoStackedLSTMLayersMatchTorch() throws { try check("lstm_2layers.safetensors") }
    func testTwoStackedGRULayersMatchTorch() throws { try check("gru_2layers.safetensors") }
    func testTwoStackedLEMLayersMatchTheAuthorsCell() throws { try check("lem_2layers.safetensors") }
}

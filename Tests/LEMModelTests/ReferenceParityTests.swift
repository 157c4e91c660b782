import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// Parity with the authors' PyTorch LEM (tools/reference/make_fixtures.py, computed in float64,
/// stored as float32): forward values, every gradient, and the losses and parameters after a few
/// optimiser steps, compared tensor by tensor as llm.c's test_gpt2 does.
///
/// Criterion per entry: |ours − reference| ≤ 1e-5 + 1e-4·|reference|; the max difference of every
/// tensor is printed.
final class ReferenceParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func fixture(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile.read(path: Self.fixtures.appendingPathComponent(name).path)
    }

    func compare(_ ours: [Float], _ reference: [Float], _ what: String, absolute: Float = 1e-5, relative: Float = 1e-4,
                 file: StaticString = #filePath, line: UInt = #line) {
        compareToReference(ours, reference, what, absolute: absolute, relative: relative, file: file, line: line)
    }

    func int32s(_ file: SafeTensorsFile, _ name: String) throws -> [Int32] { try file.int64s(name).map { Int32($0) } }

    // MARK: - One LEM layer

    func checkLayer(_ name: String) throws {
        let f = try fixture(name)
        let dt = Float(f.metadata["dt"]!)!
        let (T, B, m, d) = (Int(f.metadata["T"]!)!, Int(f.metadata["B"]!)!, Int(f.metadata["m"]!)!, Int(f.metadata["d"]!)!)
        print("\(name): T=\(T) B=\(B) m=\(m) d=\(d) dt=\(dt)")
        let config = LEMConfig(inputSize: m, hiddenSize: d, dt: dt)
        var layout = LayoutBuilder()
        LEMLayer.declare(&layout, prefix: "lem.", config: config)
        let block = ParameterBlock(layout)
        try block.load(from: f)
        let lem = LEMLayer(config: config, parameters: block, prefix: "lem.")
        let (input, y0, z0) = (try f.floats("input"), try f.floats("y0"), try f.floats("z0"))
        lem.forward(input: input, steps: T, batch: B, initialHidden: y0, initialCell: z0)
        compare(Array(UnsafeBufferPointer(start: lem.outputs, count: T * B * d)), try f.floats("output"), "output")
        compare(Array(UnsafeBufferPointer(start: lem.finalHidden, count: B * d)), try f.floats("y_final"), "y_final")
        compare(Array(UnsafeBufferPointer(start: lem.finalCell!, count: B * d)), try f.floats("z_final"), "z_final")

        block.zeroGrads()
        var dInput = [Float](repeating: 0, count: T * B * m), dY0 = [Float](repeating: 0, count: B * d), dZ0 = dY0
        lem.backward(outputGrad: try f.floats("loss_weight.output"), finalHiddenGrad: try f.floats("loss_weight.y_final"),
                     finalCellGrad: try f.floats("loss_weight.z_final"), inputGrad: &dInput, initialHiddenGrad: &dY0, initialCellGrad: &dZ0)
        for spec in block.specs {
            compare(block.parameter(spec.name).grads, try f.floats("grad." + spec.name), "grad." + spec.name)
        }
        compare(dInput, try f.floats("grad.input"), "grad.input")
        compare(dY0, try f.floats("grad.y0"), "grad.y0")
        compare(dZ0, try f.floats("grad.z0"), "grad.z0")
    }

    func testLEMLayerMatchesPyTorch() throws { try checkLayer("lem_layer.safetensors") }
    func testLEMLayerWithUnitTimeStepMatchesPyTorch() throws { try checkLayer("lem_layer_dt1.safetensors") }

    // MARK: - Tiny word language model (tied), with Adam + weight decay + clipping

    func testWordLanguageModelMatchesPyTorch() throws {
        let f = try fixture("word_lm.safetensors")
        let (V, d, T, B) = (Int(f.metadata["V"]!)!, Int(f.metadata["d"]!)!, Int(f.metadata["T"]!)!, Int(f.metadata["B"]!)!)
        print("word_lm: V=\(V) d=\(d) T=\(T) B=\(B), tied")
        let model = LanguageModel(config: LanguageModelConfig(vocabularySize: V, embeddingSize: d, hiddenSize: d, tied: true,
                                                              dt: Float(f.metadata["dt"]!)!))
        try model.parameters.load(from: f)
        let tokens = try int32s(f, "tokens"), targets = try int32s(f, "targets")
        let start = RecurrentState(hidden: try f.floats("y0"), cell: try f.floats("z0"))
        var rng = RandomGenerator(seed: 0)

        var state = start
        let evalLoss = model.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &state, training: false, rng: &rng)
        compare(Array(UnsafeBufferPointer(start: model.lastLogits, count: T * B * V)), try f.floats("logits"), "logits")
        compare([Float(evalLoss / Double(T * B))], try f.floats("loss"), "loss")
        compare(state.hidden, try f.floats("y_final"), "y_final")
        compare(state.cell, try f.floats("z_final"), "z_final")

        model.parameters.zeroGrads()
        state = start
        _ = model.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &state, training: true, rng: &rng)
        model.backward()
        for spec in model.parameters.specs {
            compare(model.parameters.parameter(spec.name).grads, try f.floats("grad." + spec.name), "grad." + spec.name)
        }

        let lr = Float(f.metadata["lr"]!)!, clip = Float(f.metadata["clip"]!)!
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam, weightDecay: Float(f.metadata["weight_decay"]!)!),
                             parameterCount: model.parameters.count)
        var losses: [Float] = [], norms: [Float] = []
        for _ in 0..<Int(f.metadata["steps"]!)! {
            model.parameters.zeroGrads()
            state = start
            let stepLoss = model.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &state, training: true, rng: &rng)
            model.backward()
            losses.append(Float(stepLoss / Double(T * B)))
            norms.append(clipGradientNorm(model.parameters, maxNorm: clip))
            adam.step(model.parameters, learningRate: lr)
        }
        state = start
        losses.append(Float(model.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &state, training: false, rng: &rng) / Double(T * B)))
        print("  Adam losses: ours \(losses), reference \(try f.floats("adam.losses"))")
        compare(losses, try f.floats("adam.losses"), "adam.losses")
        compare(norms, try f.floats("adam.grad_norms"), "adam.grad_norms")
        for spec in model.parameters.specs {
            compare(model.parameters.parameter(spec.name).values, try f.floats("adam." + spec.name), "adam." + spec.name)
        }
    }

    // MARK: - Tiny sequence classifier (the kws shape), Adam; SGD with clipping

    func classifier(_ f: SafeTensorsFile) throws -> (SequenceClassifier, [Float], [Int32], Int, Int) {
        let input = try f.floats("input"), labels = try int32s(f, "labels")
        let inShape = try f.shape("input"), wShape = try f.shape("classifier.weight")
        let (T, B) = (inShape[0], inShape[1])
        let model = SequenceClassifier(config: SequenceClassifierConfig(inputSize: inShape[2], hiddenSize: wShape[1], classCount: wShape[0]))
        try model.parameters.load(from: f)
        return (model, input, labels, T, B)
    }

    func testClassifierMatchesPyTorch() throws {
        let f = try fixture("classifier.safetensors")
        let (model, input, labels, T, B) = try classifier(f)
        print("classifier: T=\(T) B=\(B) classes=\(model.config.classCount)")
        var rng = RandomGenerator(seed: 0)
        model.parameters.zeroGrads()
        let loss = model.forward(features: input, labels: labels, steps: T, batch: B, training: true, rng: &rng)
        model.backward()
        compare(Array(UnsafeBufferPointer(start: model.lastLogits, count: B * model.config.classCount)), try f.floats("logits"), "logits")
        compare([Float(loss / Double(B))], try f.floats("loss"), "loss")
        for spec in model.parameters.specs {
            compare(model.parameters.parameter(spec.name).grads, try f.floats("grad." + spec.name), "grad." + spec.name)
        }
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
        var losses: [Float] = []
        for _ in 0..<5 {
            model.parameters.zeroGrads()
            let stepLoss = model.forward(features: input, labels: labels, steps: T, batch: B, training: true, rng: &rng)
            model.backward()
            losses.append(Float(stepLoss / Double(B)))
            adam.step(model.parameters, learningRate: 0.01)
        }
        losses.append(Float(model.forward(features: input, labels: labels, steps: T, batch: B, training: false, rng: &rng) / Double(B)))
        compare(losses, try f.floats("adam.losses"), "adam.losses")
        for spec in model.parameters.specs {
            compare(model.parameters.parameter(spec.name).values, try f.floats("adam." + spec.name), "adam." + spec.name)
        }
    }

    func testSGDWithClippingMatchesPyTorch() throws {
        let f = try fixture("sgd_clip.safetensors")
        let (model, input, labels, T, B) = try classifier(f)
        var rng = RandomGenerator(seed: 0)
        let sgd = Optimizer(settings: OptimizerSettings(kind: .sgd), parameterCount: model.parameters.count)
        var losses: [Float] = [], norms: [Float] = []
        for _ in 0..<3 {
            model.parameters.zeroGrads()
            let stepLoss = model.forward(features: input, labels: labels, steps: T, batch: B, training: true, rng: &rng)
            model.backward()
            losses.append(Float(stepLoss / Double(B)))
            norms.append(clipGradientNorm(model.parameters, maxNorm: 0.1))
            sgd.step(model.parameters, learningRate: 0.1)
        }
        losses.append(Float(model.forward(features: input, labels: labels, steps: T, batch: B, training: false, rng: &rng) / Double(B)))
        compare(losses, try f.floats("sgd.losses"), "sgd.losses")
        compare(norms, try f.floats("sgd.grad_norms"), "sgd.grad_norms")
        for spec in model.parameters.specs {
            compare(model.parameters.parameter(spec.name).values, try f.floats("sgd." + spec.name), "sgd." + spec.name)
        }
    }
}

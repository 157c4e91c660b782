import Foundation
import LEMModel
import SwiftProtobuf
import Testing
@testable import ONNXExport

/// The exported graphs' structure and weights, read back through the generated ONNX messages
/// (onnxruntime's numerical comparison is tools/onnx/check-exports.sh, run by CI).
@Suite struct ONNXGraphTests {
    /// Tensors of a model with recognisable values: element i of tensor k is k + i / 1000.
    struct FakeCheckpoint {
        var shapes: [String: [Int]] = [:]

        init() {}

        /// The tensors of a classifier: the stack's layers and a head of `classes` outputs.
        init(classifier stack: RecurrentStackSpec, classes: Int) {
            declare(stack)
            shapes["classifier.weight"] = [classes, stack.hiddenSize]
            shapes["classifier.bias"] = [classes]
        }

        mutating func declare(_ stack: RecurrentStackSpec) {
            var layout = LayoutBuilder()
            for layer in 0..<stack.layers {
                stack.cell.declare(&layout, layer: layer, inputSize: layer == 0 ? stack.inputSize : stack.hiddenSize,
                                   hiddenSize: stack.hiddenSize, dt: stack.dt)
            }
            for (name, shape) in layout.entries { shapes[name] = shape }
        }

        func values(_ name: String) -> [Float] {
            let k = Float(shapes.keys.sorted().firstIndex(of: name)!)
            return (0..<shapes[name]!.reduce(1, *)).map { k + Float($0) / 1000 }
        }

        var lookup: TensorLookup {
            { name in
                guard let shape = shapes[name] else { throw ONNXExportError("missing tensor \"\(name)\"") }
                return (shape, values(name))
            }
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> Onnx_ModelProto {
        try Onnx_ModelProto(serializedBytes: Data(bytes))
    }

    static func floats(_ t: Onnx_TensorProto) -> [Float] {
        t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    static func dims(_ v: Onnx_ValueInfoProto) -> [String] {
        v.type.tensorType.shape.dim.map { d in
            switch d.value {
            case .dimValue(let n)?: return String(n)
            case .dimParam(let s)?: return s
            case nil: return "?"
            }
        }
    }

    func classifier(_ cell: CellKind, layers: Int, normalizer: Bool = true) throws -> (Onnx_ModelProto, FakeCheckpoint) {
        let stack = RecurrentStackSpec(cell: cell, layers: layers, inputSize: 5, hiddenSize: 3, dt: 0.5)
        let fake = FakeCheckpoint(classifier: stack, classes: 4)
        let bytes = try ONNXModel.classifier(stack: stack, classCount: 4, normalizer: normalizer ? ([Float](repeating: 1, count: 5), [Float](repeating: 2, count: 5)) : nil,
                                             tensors: fake.lookup, metadata: ["lem.labels": "[\"a\",\"b\",\"c\",\"d\"]"], docString: "test")
        return (try Self.decode(bytes), fake)
    }

    @Test func lemClassifierIsAScanPerLayerWithStateInAndOut() throws {
        let (model, fake) = try classifier(.lem, layers: 2)
        #expect(model.irVersion == 8 && model.opsetImport.map(\.version) == [17])
        let g = model.graph
        #expect(g.input.map(\.name) == ["features", "state_y", "state_z"])
        #expect(Self.dims(g.input[0]) == ["batch", "time", "5"])
        #expect(Self.dims(g.input[1]) == ["2", "batch", "3"])
        #expect(g.output.map(\.name) == ["probabilities", "logits", "state_y_out", "state_z_out"])
        #expect(Self.dims(g.output[0]) == ["batch", "4"])
        let scans = g.node.filter { $0.opType == "Scan" }
        #expect(scans.count == 2)
        for scan in scans {
            let body = try #require(scan.attribute.first { $0.name == "body" }).g
            #expect(body.input.count == 3 && body.output.count == 3)
            #expect(scan.attribute.first { $0.name == "num_scan_inputs" }?.i == 1)
            // The step: two products (y × hid2hidᵀ, z × transform_zᵀ), two sigmoids, two tanhs.
            let ops = body.node.map(\.opType)
            #expect(ops.filter { $0 == "MatMul" }.count == 2 && ops.filter { $0 == "Sigmoid" }.count == 2 && ops.filter { $0 == "Tanh" }.count == 2)
        }
        // Every checkpoint tensor is an initializer under its PyTorch name with its values.
        let initializers = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
        for name in fake.shapes.keys {
            let t = try #require(initializers[name], "\(name) missing")
            #expect(t.dims.map(Int.init) == fake.shapes[name])
            #expect(Self.floats(t) == fake.values(name), "\(name)")
        }
        #expect(Self.floats(initializers["normalizer.scale"]!) == [Float](repeating: 2, count: 5))
        #expect(model.metadataProps.map(\.key) == ["lem.labels"])
    }

    @Test func lstmWeightsAreReorderedToONNXsGateOrder() throws {
        let (model, fake) = try classifier(.lstm, layers: 2)
        let g = model.graph
        #expect(g.node.filter { $0.opType == "LSTM" }.count == 2)
        let initializers = Dictionary(uniqueKeysWithValues: g.initializer.map { ($0.name, $0) })
        for layer in 0..<2 {
            let m = layer == 0 ? 5 : 3, d = 3
            let w = try #require(initializers["onnx_lstm_l\(layer).W"])
            #expect(w.dims == [1, Int64(4 * d), Int64(m)])
            // PyTorch's blocks i, f, g, o go out as ONNX's i, o, f, c.
            let torch = fake.values("rnn.weight_ih_l\(layer)"), block = d * m
            let expected: [Float] = [0, 3, 1, 2].flatMap { (k: Int) -> ArraySlice<Float> in torch[(k * block)..<((k + 1) * block)] }
            #expect(Self.floats(w) == expected)
            let b = Self.floats(try #require(initializers["onnx_lstm_l\(layer).B"]))
            let bih = fake.values("rnn.bias_ih_l\(layer)"), bhh = fake.values("rnn.bias_hh_l\(layer)")
            let reorderedIH: [Float] = [0, 3, 1, 2].flatMap { (k: Int) -> ArraySlice<Float> in bih[(k * d)..<((k + 1) * d)] }
            let reorderedHH: [Float] = [0, 3, 1, 2].flatMap { (k: Int) -> ArraySlice<Float> in bhh[(k * d)..<((k + 1) * d)] }
            #expect(b == reorderedIH + reorderedHH)
        }
    }

    @Test func gruHasNoCellStateAndResetsAfterTheProduct() throws {
        let (model, fake) = try classifier(.gru, layers: 1, normalizer: false)
        let g = model.graph
        #expect(g.input.map(\.name) == ["features", "state_y"])
        #expect(g.output.map(\.name) == ["probabilities", "logits", "state_y_out"])
        #expect(!g.node.contains { $0.opType == "Sub" })   // no normaliser
        let gru = try #require(g.node.first { $0.opType == "GRU" })
        #expect(gru.attribute.first { $0.name == "linear_before_reset" }?.i == 1)
        let r = try #require(g.initializer.first { $0.name == "onnx_gru_l0.R" })
        let torch = fake.values("rnn.weight_hh_l0"), block = 9
        let expected: [Float] = [1, 0, 2].flatMap { (k: Int) -> ArraySlice<Float> in torch[(k * block)..<((k + 1) * block)] }   // r, z, n → z, r, h
        #expect(Self.floats(r) == expected)
    }

    @Test func languageModelTiedUsesTheEmbeddingAsDecoder() throws {
        for (cell, tied) in [(CellKind.lem, true), (.lstm, false)] {
            let stack = RecurrentStackSpec(cell: cell, layers: 1, inputSize: 3, hiddenSize: 3, dt: 1)
            var fake = FakeCheckpoint()
            fake.declare(stack)
            fake.shapes["embedding.weight"] = [7, 3]
            fake.shapes["decoder.bias"] = [7]
            if !tied { fake.shapes["decoder.weight"] = [7, 3] }
            let model = try Self.decode(try ONNXModel.languageModel(stack: stack, vocabularySize: 7, tied: tied, tensors: fake.lookup,
                                                                     metadata: [:], docString: ""))
            let g = model.graph
            #expect(g.input.map(\.name) == ["tokens", "state_y", "state_z"])
            #expect(g.input[0].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.int64.rawValue))
            #expect(Self.dims(g.output[0]) == ["batch", "time", "7"])
            #expect(g.initializer.contains { $0.name == "decoder.weight" } == !tied)
            #expect(g.node.first?.opType == "Gather" && g.node.first?.input == ["embedding.weight", "tokens"])
        }
    }

    @Test func aWrongShapeNamesTheTensor() throws {
        let stack = RecurrentStackSpec(cell: .lem, layers: 1, inputSize: 5, hiddenSize: 3, dt: 1)
        var fake = FakeCheckpoint(classifier: stack, classes: 4)
        fake.shapes["lem.hid2hid.weight"] = [9, 2]
        do {
            _ = try ONNXModel.classifier(stack: stack, classCount: 4, normalizer: nil, tensors: fake.lookup, metadata: [:], docString: "")
            Issue.record("expected an error")
        } catch let error as ONNXExportError {
            #expect(error.description == "tensor \"lem.hid2hid.weight\" has shape [9, 2], the model settings need [9, 3]")
        }
    }

    @Test func regressorsReadOutTheLastStepOrEveryStep() throws {
        let stack = RecurrentStackSpec(cell: .gru, layers: 1, inputSize: 5, hiddenSize: 3, dt: 1)
        var fake = FakeCheckpoint(classifier: stack, classes: 2)
        fake.shapes["readout.weight"] = [2, 3]
        fake.shapes["readout.bias"] = [2]
        for everyStep in [false, true] {
            let bytes = try ONNXModel.regressor(stack: stack, outputSize: 2, everyStep: everyStep, tensors: fake.lookup, metadata: [:], docString: "")
            let g = try Self.decode(bytes).graph
            let predictions = try #require(g.output.first { $0.name == "predictions" })
            #expect(Self.dims(predictions) == (everyStep ? ["batch", "time", "2"] : ["batch", "2"]))
            #expect(g.initializer.contains { $0.name == "readout.weight" })
            #expect(g.output.map(\.name) == ["predictions", "state_y_out"])
        }
    }

    @Test func lruBlocksAreAScanOverTheComplexStateBetweenPositionWiseParts() throws {
        // d = 3: N = 1 complex state, packed with a 0 in the cell-state slot (Slice in, Pad out).
        let (model, fake) = try classifier(.lru, layers: 2)
        let g = model.graph
        #expect(g.input.map(\.name) == ["features", "state_y", "state_z"])
        #expect(g.node.filter { $0.opType == "Scan" }.count == 2)
        #expect(g.node.filter { $0.opType == "LayerNormalization" }.count == 2)
        #expect(g.node.contains { $0.opType == "Slice" } && g.node.contains { $0.opType == "Pad" })
        for name in ["encoder.weight", "layers.0.norm.weight", "layers.1.lru.D", "layers.1.out2.bias", "onnx_lru_l0.B_packed", "onnx_lru_l1.lambda_re"] {
            #expect(g.initializer.contains { $0.name == name }, "\(name)")
        }
        // [B_re; B_im]ᵀ: row j holds B_re[:, j] then B_im[:, j] (N = 1: two values per row).
        let packed = try #require(g.initializer.first { $0.name == "onnx_lru_l0.B_packed" })
        #expect(packed.dims == [3, 2])
        let (re, im) = (fake.values("layers.0.lru.B_re"), fake.values("layers.0.lru.B_im"))
        let gamma = Float(exp(Double(fake.values("layers.0.lru.gamma_log")[0])))
        #expect(Self.floats(packed) == [re[0], im[0], re[1], im[1], re[2], im[2]])
        #expect(Self.floats(try #require(g.initializer.first { $0.name == "onnx_lru_l0.gamma" })) == [gamma, gamma])
    }

    @Test func rawAudioGraphsComputeTheFeaturesThemselves() throws {
        let stack = RecurrentStackSpec(cell: .gru, layers: 1, inputSize: 4, hiddenSize: 3, dt: 1)
        let fake = FakeCheckpoint(classifier: stack, classes: 2)
        // 64 samples, 16-point frames every 8 with 8 reflected each side: 9 STFT frames, padded to 10.
        let spec = ONNXFrontEndSpec(clipSamples: 64, nFFT: 16, hopLength: 8, window: [Float](repeating: 1, count: 16), pad: 8, reflectPad: true,
                                    power: 1, melFilterbank: [Float](repeating: 0.5, count: 4 * 9), nMels: 4, amin: 1e-10,
                                    referenceIsClipMaximum: true, topDB: 80, dct: nil, featureCount: 4, frames: 10, perClipNormalization: true)
        #expect(spec.stftFrames == 9)
        let model = try Self.decode(try ONNXModel.classifier(stack: stack, classCount: 2, normalizer: nil, frontEnd: spec,
                                                             tensors: fake.lookup, metadata: [:], docString: ""))
        let g = model.graph
        #expect(g.input.map(\.name) == ["audio"] && Self.dims(g.input[0]) == ["batch", "64"])
        #expect(g.output.map(\.name) == ["probabilities", "logits"])
        let ops = g.node.map(\.opType)
        for op in ["STFT", "Sqrt", "Log", "ReduceMax", "Where", "ConstantOfShape", "GRU"] { #expect(ops.contains(op), "\(op)") }
        let pads = g.node.filter { $0.opType == "Pad" }
        #expect(pads.count == 2)   // the reflected edges of the clip, then the frames padded to 10
        #expect(pads.first?.attribute.first { $0.name == "mode" }.map { String(decoding: $0.s, as: UTF8.self) } == "reflect")
        // Opset 17: ReduceMax and ReduceMean take their axes as an attribute (an input from opset 18).
        for node in g.node where node.opType == "ReduceMax" || node.opType == "ReduceMean" {
            #expect(node.input.count == 1 && node.attribute.contains { $0.name == "axes" && $0.ints == [1, 2] })
        }
        #expect(g.initializer.contains { $0.name == "frontend.mel_filterbank_t" && $0.dims == [9, 4] })
        // Settings that do not fit are refused, not exported.
        var bad = spec
        bad.window = [1, 1]
        #expect(throws: ONNXExportError.self) {
            _ = try ONNXModel.classifier(stack: stack, classCount: 2, normalizer: nil, frontEnd: bad, tensors: fake.lookup, metadata: [:], docString: "")
        }
    }

    @Test func theSameCheckpointGivesTheSameBytes() throws {
        let stack = RecurrentStackSpec(cell: .lem, layers: 2, inputSize: 5, hiddenSize: 3, dt: 1)
        let fake = FakeCheckpoint(classifier: stack, classes: 4)
        let make = { try ONNXModel.classifier(stack: stack, classCount: 4, normalizer: nil, tensors: fake.lookup,
                                              metadata: ["b": "2", "a": "1"], docString: "") }
        #expect(try make() == make())
    }
}

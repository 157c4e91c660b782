import Foundation
import LEMModel
import SwiftProtobuf

/// ONNX exports of the tools' models (docs/DEPLOYING.md): the graphs, their inputs and outputs,
/// and the model file.
///
/// Both graphs are batch-first and carry the recurrent state in and out, so a caller can run a
/// whole sequence at once or stream it a window (or a token) at a time with the same results:
///
/// | model | inputs | outputs |
/// |---|---|---|
/// | language model | `tokens` int64 [batch, time]; `state_y`, `state_z` [layers, batch, hidden] | `logits` [batch, time, vocabulary]; `state_y_out`, `state_z_out` |
/// | classifier | `features` float [batch, time, features]; `state_y`, `state_z` | `probabilities`, `logits` [batch, classes] (of the last step given); `state_y_out`, `state_z_out` |
///
/// `state_y` is the hidden state (LEM's y, LSTM's and GRU's h); `state_z` the cell state (LEM's z,
/// LSTM's c) and absent for a GRU. Zeros start a sequence, as the tools start one.
public enum ONNXModel {
    /// The operator set the graphs use (ONNX 1.12; onnxruntime has run it since 1.12).
    public static let opsetVersion = 17
    /// The IR version that goes with opset 17.
    public static let irVersion = 8

    /// The language model of an `lm` checkpoint: embedding → recurrent layers → decoder.
    ///
    /// `tied`: the decoder's weight is the embedding table (`embedding.weight`).
    public static func languageModel(stack: RecurrentStackSpec, vocabularySize v: Int, tied: Bool, tensors: TensorLookup,
                                     metadata: [String: String], docString: String) throws -> [UInt8] {
        var g = GraphBuilder(name: "lem_language_model")
        let (d, m) = (stack.hiddenSize, stack.inputSize)
        g.input("tokens", .int64, [.named("batch"), .named("time")], doc: "token ids (the vocabulary in the metadata), batch-first")
        let (stateY, stateZ) = stateInputs(&g, stack)
        let embedding = try g.weight("embedding.weight", [v, m], tensors)
        let embedded = g.op("Gather", embedding, "tokens", attributes: [Attribute.int("axis", 0)])                 // [B, T, m]
        let timeMajor = g.op("Transpose", embedded, attributes: [Attribute.ints("perm", [1, 0, 2])])              // [T, B, m]
        let values = try g.recurrentStack(stack, input: timeMajor, stateY: stateY, stateZ: stateZ, tensors: tensors)
        let decoderWeight = tied ? embedding : try g.weight("decoder.weight", [v, d], tensors)
        let decoderBias = try g.weight("decoder.bias", [v], tensors)
        let transposed = g.op("Transpose", decoderWeight, attributes: [Attribute.ints("perm", [1, 0])])
        let logits = g.op("Add", g.op("MatMul", values.outputs, transposed), decoderBias)                        // [T, B, V]
        g.node("Transpose", [logits], outputs: ["logits"], attributes: [Attribute.ints("perm", [1, 0, 2])])
        g.output("logits", .float, [.named("batch"), .named("time"), .fixed(v)], doc: "unnormalised log-probabilities of the next token")
        stateOutputs(&g, stack, values)
        return try serialize(g.graph, metadata: metadata, docString: docString)
    }

    /// The sequence classifier of a `kws` checkpoint: (x − mean) · scale per feature →
    /// recurrent layers → linear head on the last step's hidden state → softmax.
    ///
    /// `normalizer`: the per-feature mean and the multiplier 1/max(std, 1e-5) the tool applies to
    /// its features before the model; nil when the inputs go in as they are.
    /// `frontEnd`: the graph starts from raw clips (`audio` [batch, clipSamples]) through this
    /// front end, from zero states, and has no state inputs or outputs (a clip's features depend
    /// on the whole clip: dB reference and z-score); nil: it starts from `features` and carries
    /// the state in and out.
    public static func classifier(stack: RecurrentStackSpec, classCount c: Int, normalizer: (mean: [Float], scale: [Float])?,
                                  frontEnd: ONNXFrontEndSpec? = nil,
                                  tensors: TensorLookup, metadata: [String: String], docString: String) throws -> [UInt8] {
        var g = GraphBuilder(name: "lem_sequence_classifier")
        let (d, f) = (stack.hiddenSize, stack.inputSize)
        var x: String
        let stateY: String, stateZ: String?
        if let frontEnd {
            guard frontEnd.featureCount == f else { throw ONNXExportError("the front end makes \(frontEnd.featureCount) features, the model reads \(f)") }
            g.input("audio", .float, [.named("batch"), .fixed(frontEnd.clipSamples)],
                    doc: "clips of \(frontEnd.clipSamples) samples (16-bit PCM / 32768, mono, at the model's rate; pad or cut to this length)")
            x = try g.frontEnd(frontEnd, audio: "audio")
            (stateY, stateZ) = zeroStates(&g, stack, like: "audio")
        } else {
            g.input("features", .float, [.named("batch"), .named("time"), .fixed(f)],
                    doc: normalizer == nil ? "input sequences, batch-first" : "the tool's features (before its normaliser, which the graph applies), batch-first")
            x = "features"
            (stateY, stateZ) = stateInputs(&g, stack)
        }
        if let normalizer {
            guard normalizer.mean.count == f, normalizer.scale.count == f else {
                throw ONNXExportError("the normaliser has \(normalizer.mean.count) features, the model \(f)")
            }
            g.initializer("normalizer.mean", shape: [f], floats: normalizer.mean)
            g.initializer("normalizer.scale", shape: [f], floats: normalizer.scale)
            x = g.op("Mul", g.op("Sub", x, "normalizer.mean"), "normalizer.scale")
        }
        let timeMajor = g.op("Transpose", x, attributes: [Attribute.ints("perm", [1, 0, 2])])                     // [T, B, F]
        let values = try g.recurrentStack(stack, input: timeMajor, stateY: stateY, stateZ: stateZ, tensors: tensors)
        let weight = try g.weight("classifier.weight", [c, d], tensors), bias = try g.weight("classifier.bias", [c], tensors)
        let transposed = g.op("Transpose", weight, attributes: [Attribute.ints("perm", [1, 0])])
        g.node("Add", [g.op("MatMul", values.lastHidden, transposed), bias], outputs: ["logits"])
        g.node("Softmax", ["logits"], outputs: ["probabilities"], attributes: [Attribute.int("axis", -1)])
        g.output("probabilities", .float, [.named("batch"), .fixed(c)], doc: "class probabilities after the last step given (labels in the metadata)")
        g.output("logits", .float, [.named("batch"), .fixed(c)], doc: "the same before the softmax")
        if frontEnd == nil { stateOutputs(&g, stack, values) }
        return try serialize(g.graph, metadata: metadata, docString: docString)
    }

    /// A sequence regressor (`seq`'s: the read-out `readout.weight [K, d]`, `readout.bias [K]`):
    /// features [batch, time, F] and the state in; `predictions` [batch, K] from the last step, or
    /// [batch, time, K] at every step (`everyStep`), and the state out.
    public static func regressor(stack: RecurrentStackSpec, outputSize k: Int, everyStep: Bool,
                                 tensors: TensorLookup, metadata: [String: String], docString: String) throws -> [UInt8] {
        var g = GraphBuilder(name: "lem_sequence_regressor")
        let (d, f) = (stack.hiddenSize, stack.inputSize)
        g.input("features", .float, [.named("batch"), .named("time"), .fixed(f)], doc: "input sequences, batch-first")
        let (stateY, stateZ) = stateInputs(&g, stack)
        let timeMajor = g.op("Transpose", "features", attributes: [Attribute.ints("perm", [1, 0, 2])])                // [T, B, F]
        let values = try g.recurrentStack(stack, input: timeMajor, stateY: stateY, stateZ: stateZ, tensors: tensors)
        let weight = try g.weight("readout.weight", [k, d], tensors), bias = try g.weight("readout.bias", [k], tensors)
        let transposed = g.op("Transpose", weight, attributes: [Attribute.ints("perm", [1, 0])])
        if everyStep {
            let perStep = g.op("Add", g.op("MatMul", values.outputs, transposed), bias)                                 // [T, B, K]
            g.node("Transpose", [perStep], outputs: ["predictions"], attributes: [Attribute.ints("perm", [1, 0, 2])])
            g.output("predictions", .float, [.named("batch"), .named("time"), .fixed(k)], doc: "the prediction at every step")
        } else {
            g.node("Add", [g.op("MatMul", values.lastHidden, transposed), bias], outputs: ["predictions"])
            g.output("predictions", .float, [.named("batch"), .fixed(k)], doc: "the prediction after the last step given")
        }
        stateOutputs(&g, stack, values)
        return try serialize(g.graph, metadata: metadata, docString: docString)
    }

    /// Zero states [L, B, d] with B the first dimension of `like`.
    private static func zeroStates(_ g: inout GraphBuilder, _ stack: RecurrentStackSpec, like: String) -> (String, String?) {
        let batch = g.op("Gather", g.op("Shape", like), g.int64s("batch_axis", [0]), attributes: [Attribute.int("axis", 0)])
        let shape = g.node("Concat", [g.int64s("layers", [Int64(stack.layers)]), batch, g.int64s("hidden", [Int64(stack.hiddenSize)])],
                           attributes: [Attribute.int("axis", 0)])[0]
        let zeros = g.op("ConstantOfShape", shape)   // float 0 by default
        return (zeros, stack.cell.hasCellState ? zeros : nil)
    }

    // MARK: - State and the model file

    /// The state inputs of a graph with `cell` (outputs: the same with `_out`).
    public static func stateNames(_ cell: CellKind) -> [String] { cell.hasCellState ? ["state_y", "state_z"] : ["state_y"] }

    private static func stateInputs(_ g: inout GraphBuilder, _ stack: RecurrentStackSpec) -> (String, String?) {
        let dims: [ONNXDimension] = [.fixed(stack.layers), .named("batch"), .fixed(stack.hiddenSize)]
        g.input("state_y", .float, dims, doc: "hidden state of every layer (LEM's y, LSTM's/GRU's h) at the start; zeros start a sequence")
        guard stack.cell.hasCellState else { return ("state_y", nil) }
        g.input("state_z", .float, dims, doc: "cell state of every layer (LEM's z, LSTM's c) at the start; zeros start a sequence")
        return ("state_y", "state_z")
    }

    private static func stateOutputs(_ g: inout GraphBuilder, _ stack: RecurrentStackSpec, _ values: StackValues) {
        let dims: [ONNXDimension] = [.fixed(stack.layers), .named("batch"), .fixed(stack.hiddenSize)]
        g.node("Identity", [values.finalY], outputs: ["state_y_out"])
        g.output("state_y_out", .float, dims, doc: "state_y after the last step: pass it back as state_y to continue the sequence")
        if let z = values.finalZ {
            g.node("Identity", [z], outputs: ["state_z_out"])
            g.output("state_z_out", .float, dims, doc: "state_z after the last step")
        }
    }

    private static func serialize(_ graph: Onnx_GraphProto, metadata: [String: String], docString: String) throws -> [UInt8] {
        var model = Onnx_ModelProto()
        model.irVersion = Int64(irVersion)
        var opset = Onnx_OperatorSetIdProto()
        (opset.domain, opset.version) = ("", Int64(opsetVersion))
        model.opsetImport = [opset]
        model.producerName = "lem"
        model.producerVersion = "1"
        model.docString = docString
        model.graph = graph
        model.metadataProps = metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            (entry.key, entry.value) = (key, metadata[key]!)
            return entry
        }
        // Deterministic: the same checkpoint gives the same bytes.
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        do { return [UInt8](try model.serializedBytes(options: options) as Data) } catch {
            throw ONNXExportError("could not encode the model: \(error)")
        }
    }
}

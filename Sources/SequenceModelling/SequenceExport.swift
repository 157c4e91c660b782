import Foundation
import LEMModel
import ONNXExport

/// `seq export`: a `seq` checkpoint as an ONNX model — sequences [batch, time, F] and the
/// recurrent state in; class probabilities and logits after the last step (a classifier), or the
/// predictions after the last step or at every step (a regressor), and the state out. Class names
/// or the target width, the features per step and the training data travel in the metadata.
package struct SequenceExport {
    package var checkpoint: String
    /// nil: `<checkpoint>.onnx` beside the checkpoint.
    package var output: String?

    package init(checkpoint: String, output: String? = nil) { (self.checkpoint, self.output) = (checkpoint, output) }

    package func run() throws -> ONNXExportSummary {
        let path = try onnxDestination(output, checkpoint: checkpoint)
        let stored = try Checkpoint.read(path: checkpoint, expectedKind: "seq")
        let tool = try stored.tool(SequenceToolData.self)
        func json<T: Encodable>(_ value: T) throws -> String {   // sorted keys: the same checkpoint gives the same bytes
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        var metadata = ["lem.kind": "seq", "lem.model": stored.modelJSON, "lem.features": String(tool.features), "lem.data": tool.data]
        if let quantization = stored.quantization { metadata["lem.quantization"] = quantization + " (exported dequantized)" }
        let bytes: [UInt8], stack: RecurrentStackSpec, outputs: [String]
        do {
            if let width = tool.targetWidth {
                let config = try stored.sequenceRegressor().config   // checks every tensor's shape against the settings
                stack = RecurrentStackSpec(cell: config.cell, layers: config.layers, inputSize: config.inputSize, hiddenSize: config.hiddenSize, dt: config.dt)
                metadata["lem.target_width"] = String(width)
                metadata["lem.every_step"] = String(config.everyStep)
                let doc = "lem sequence regressor (\(config.layers) × \(config.cell.displayName), hidden \(config.hiddenSize)) exported by `seq export` from "
                    + "\(URL(fileURLWithPath: checkpoint).lastPathComponent). Input: features [batch, time, \(config.inputSize)] and "
                    + ONNXModel.stateNames(config.cell).joined(separator: ", ") + " [\(config.layers), batch, \(config.hiddenSize)] (zeros start a sequence). "
                    + "Output: predictions [batch, \(config.everyStep ? "time, " : "")\(width)] \(config.everyStep ? "at every step" : "after the last step"), and the state."
                bytes = try ONNXModel.regressor(stack: stack, outputSize: width, everyStep: config.everyStep, tensors: tensorLookup(stored),
                                                metadata: metadata, docString: doc)
                outputs = ["predictions"]
            } else {
                let config = try stored.sequenceClassifier().config
                guard tool.classNames.count == config.classCount, tool.features == config.inputSize else {
                    throw CheckpointError(path: checkpoint, problem: "its class names, features and model do not agree (corrupt or hand-edited checkpoint)")
                }
                stack = RecurrentStackSpec(cell: config.cell, layers: config.layers, inputSize: config.inputSize, hiddenSize: config.hiddenSize, dt: config.dt)
                metadata["lem.labels"] = try json(tool.classNames)
                let doc = "lem sequence classifier (\(config.layers) × \(config.cell.displayName), hidden \(config.hiddenSize), \(config.classCount) classes) "
                    + "exported by `seq export` from \(URL(fileURLWithPath: checkpoint).lastPathComponent). Input: features [batch, time, \(config.inputSize)] and "
                    + ONNXModel.stateNames(config.cell).joined(separator: ", ") + " [\(config.layers), batch, \(config.hiddenSize)] (zeros start a sequence). "
                    + "Outputs: probabilities and logits [batch, \(config.classCount)] after the last step (class names in the metadata), and the state."
                bytes = try ONNXModel.classifier(stack: stack, classCount: config.classCount, normalizer: nil, tensors: tensorLookup(stored),
                                                 metadata: metadata, docString: doc)
                outputs = ["probabilities", "logits"]
            }
        } catch let error as ONNXExportError {
            throw CheckpointError(path: checkpoint, problem: error.description)
        }
        try writeONNX(bytes, to: path)
        let states = ONNXModel.stateNames(stack.cell)
        return ONNXExportSummary(path: path, bytes: bytes.count, cell: stack.cell, layers: stack.layers, inputs: ["features"] + states,
                                 outputs: outputs + states.map { $0 + "_out" }, quantization: stored.quantization)
    }
}

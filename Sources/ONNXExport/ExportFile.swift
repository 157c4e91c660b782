import Foundation
import LEMModel
import TaskSupport

/// What an export wrote, for the command's report.
public struct ONNXExportSummary: Sendable {
    public var path: String
    public var bytes: Int
    public var cell: CellKind
    public var layers: Int
    public var inputs: [String]
    public var outputs: [String]
    /// "int8 …" when the checkpoint was quantised (its weights go out dequantized), else nil.
    public var quantization: String?

    public init(path: String, bytes: Int, cell: CellKind, layers: Int, inputs: [String], outputs: [String], quantization: String?) {
        (self.path, self.bytes, self.cell, self.layers, self.inputs, self.outputs, self.quantization) = (path, bytes, cell, layers, inputs, outputs, quantization)
    }

    /// The lines a command prints.
    public var lines: [String] {
        var out = ["\(path): \(layers) × \(cell.displayName) as ONNX opset \(ONNXModel.opsetVersion) (\(formatBytes(bytes))); "
                   + "inputs \(inputs.joined(separator: ", ")); outputs \(outputs.joined(separator: ", "))"]
        if quantization != nil {
            out.append("note: an int8 checkpoint is exported with its dequantized float weights (the same integers × scales); "
                       + "onnxruntime runs it in float, so its outputs differ from `--int8` inference by the activation rounding")
        }
        return out
    }
}

/// `model.ckpt` → `model.onnx`.
public func defaultONNXPath(_ checkpoint: String) -> String {
    let url = URL(fileURLWithPath: checkpoint)
    return url.pathExtension.isEmpty ? checkpoint + ".onnx" : url.deletingPathExtension().path + ".onnx"
}

/// Where an export of `checkpoint` goes: `output`, or `<checkpoint>.onnx`; never the checkpoint itself.
public func onnxDestination(_ output: String?, checkpoint: String) throws -> String {
    let path = output ?? defaultONNXPath(checkpoint)
    guard !samePath(path, checkpoint) else {
        throw ToolError(description: "\(path): the ONNX model would overwrite the checkpoint it is exported from; give another --onnx")
    }
    return path
}

/// Writes an exported model atomically (as checkpoints are written).
public func writeONNX(_ bytes: [UInt8], to path: String) throws {
    do { try writeFileAtomically(bytes, to: path) } catch {
        throw ONNXExportError("\(error)")
    }
}

/// The checkpoint's tensors as an exporter reads them (an int8 checkpoint's are dequantized on read).
public func tensorLookup(_ checkpoint: Checkpoint) -> TensorLookup {
    { name in
        guard checkpoint.file.tensors[name] != nil else {
            throw ONNXExportError("\(checkpoint.path): missing tensor \"\(name)\"")
        }
        return (try checkpoint.file.shape(name), try checkpoint.file.floats(name))
    }
}

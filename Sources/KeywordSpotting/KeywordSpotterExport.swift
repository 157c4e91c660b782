import Audio
import Foundation
import LEMModel
import ONNXExport

/// `kws export`: a `kws` checkpoint as an ONNX model (docs/DEPLOYING.md) from the tool's features
/// (docs/FEATURES.md; the graph applies the checkpoint's normaliser itself) and the recurrent state
/// to class probabilities after the last frame given, and the new state. Labels, feature settings
/// and normaliser travel in the metadata.
package struct KeywordSpotterExport {
    package var checkpoint: String
    /// nil: `<checkpoint>.onnx` beside the checkpoint.
    package var output: String?
    /// The model starts from raw clips: the feature front end as ONNX operators (`ONNXFrontEndSpec`).
    package var rawAudio = false

    package init(checkpoint: String, output: String? = nil, rawAudio: Bool = false) {
        (self.checkpoint, self.output, self.rawAudio) = (checkpoint, output, rawAudio)
    }

    package func run() throws -> ONNXExportSummary {
        let path = try onnxDestination(output, checkpoint: checkpoint)
        let stored = try Checkpoint.read(path: checkpoint, expectedKind: "kws")
        let tool = try stored.tool(KWSToolData.self)
        let config = try stored.sequenceClassifier().config   // checks every tensor's shape against the settings
        guard tool.labels.count == config.classCount, tool.features.featureCount == config.inputSize,
              tool.normalizer.featureCount == config.inputSize,
              tool.dataset.clipSamples == tool.features.clipSamples, tool.dataset.sampleRate == tool.features.sampleRate else {
            throw CheckpointError(path: checkpoint, problem: "labels, feature settings and model do not agree (corrupt or hand-edited checkpoint)")
        }
        if rawAudio && tool.features.kind == .speechEmbedding {
            throw CheckpointError(path: checkpoint, problem: "--raw-audio: the speech-embedding front end is not exported to ONNX (export the features model: its input is the 96-value embeddings; openWakeWord's melspectrogram.onnx and embedding_model.onnx compute them)")
        }
                let stack = RecurrentStackSpec(cell: config.cell, layers: config.layers, inputSize: config.inputSize,
                                       hiddenSize: config.hiddenSize, dt: config.dt)
        func json<T: Encodable>(_ value: T) throws -> String {   // sorted keys: the same checkpoint gives the same bytes
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        var metadata = [
            "lem.kind": "kws", "lem.model": stored.modelJSON, "lem.labels": try json(tool.labels),
            "lem.features": try json(tool.features), "lem.normalizer": try json(tool.normalizer),
            "lem.normalizer_in_graph": "true", "lem.cell": config.cell.rawValue, "lem.layers": String(config.layers),
            "lem.hidden_size": String(config.hiddenSize), "lem.frames_per_clip": String(tool.features.frames),
            "lem.sample_rate": String(tool.features.sampleRate),
        ]
        if let quantization = stored.quantization { metadata["lem.quantization"] = quantization + " (exported dequantized)" }
        let scale = tool.normalizer.std.map { 1 / max($0, FeatureNormalizer.minimumStd) }
        let model = "lem keyword spotter (\(config.layers) × \(config.cell.displayName), hidden \(config.hiddenSize), \(config.classCount) labels) "
            + "exported by `kws export` from \(URL(fileURLWithPath: checkpoint).lastPathComponent). "
        let outputsText = "Outputs: probabilities and logits [batch, \(config.classCount)]"
        let states = rawAudio ? [] : ONNXModel.stateNames(config.cell)
        let doc = rawAudio
            ? model + "Input: audio [batch, \(tool.features.clipSamples)], a clip at \(tool.features.sampleRate) Hz (samples in [-1, 1), "
                + "padded with zeros or cut to this length); the graph computes the features (\(tool.features); docs/FEATURES.md) and "
                + "applies the training-set normaliser, from zero states. " + outputsText + "."
            : model + "Input: features [batch, time, \(config.inputSize)] as `kws` computes them (\(tool.features); docs/FEATURES.md), "
                + "\(tool.features.frames) frames for a \(tool.features.clipSamples)-sample clip; the graph applies the training-set normaliser. "
                + states.joined(separator: ", ") + " [\(config.layers), batch, \(config.hiddenSize)]: zeros start a clip. "
                + outputsText + " after the last frame, and the state."
        if rawAudio { metadata["lem.input"] = "audio: clips of \(tool.features.clipSamples) samples at \(tool.features.sampleRate) Hz, the front end in the graph" }
        let bytes: [UInt8]
        do {
            let frontEnd = rawAudio ? try Self.frontEnd(tool.features) : nil
            bytes = try ONNXModel.classifier(stack: stack, classCount: config.classCount, normalizer: (tool.normalizer.mean, scale), frontEnd: frontEnd,
                                             tensors: tensorLookup(stored), metadata: metadata, docString: doc)
        } catch let error as ONNXExportError {
            throw CheckpointError(path: checkpoint, problem: error.description)
        } catch let error as FeatureSettingsError {
            throw CheckpointError(path: checkpoint, problem: "invalid feature settings: \(error)")
        }
        try writeONNX(bytes, to: path)
        return ONNXExportSummary(path: path, bytes: bytes.count, cell: config.cell, layers: config.layers, inputs: [rawAudio ? "audio" : "features"] + states,
                                 outputs: ["probabilities", "logits"] + states.map { $0 + "_out" }, quantization: stored.quantization)
    }

    /// The feature settings as the ONNX front end computes them (the extractor's own window,
    /// filterbank and DCT).
    static func frontEnd(_ settings: FeatureSettings) throws -> ONNXFrontEndSpec {
        let extractor = try FeatureExtractor(settings: settings)
        return ONNXFrontEndSpec(
            clipSamples: settings.clipSamples, nFFT: settings.nFFT, hopLength: settings.hopLength, window: extractor.window,
            pad: settings.center ? settings.nFFT / 2 : 0, reflectPad: settings.padMode == .reflect, power: Float(settings.power),
            melFilterbank: extractor.melFilterbank, nMels: settings.nMels, amin: Float(settings.amin),
            referenceIsClipMaximum: settings.dbReference == .clipMaximum, topDB: settings.topDB.map { Float($0) },
            dct: settings.kind == .mfcc ? extractor.dctMatrix : nil, featureCount: settings.featureCount, frames: settings.frames,
            perClipNormalization: settings.perClipNormalization)
    }
}

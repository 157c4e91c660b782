import Foundation
import LEMModel
import ONNXExport
import TaskSupport
import Text

/// `lm export`: an `lm` checkpoint as an ONNX model (docs/DEPLOYING.md) that maps token ids and
/// the recurrent state to next-token logits and the new state; the vocabulary and the model's
/// settings travel in its metadata.
package struct LanguageModelExport {
    package var checkpoint: String
    /// nil: `<checkpoint>.onnx` beside the checkpoint.
    package var output: String?

    package init(checkpoint: String, output: String? = nil) { (self.checkpoint, self.output) = (checkpoint, output) }

    package func run() throws -> ONNXExportSummary {
        let path = try onnxDestination(output, checkpoint: checkpoint)
        let (model, tool, stored) = try loadLanguageModel(checkpoint)
        let config = model.config
        let stack = RecurrentStackSpec(cell: config.cell, layers: config.layers, inputSize: config.embeddingSize,
                                       hiddenSize: config.hiddenSize, dt: config.dt)
        let vocabulary = String(decoding: try JSONEncoder().encode(tool.vocabulary.tokens), as: UTF8.self)
        var metadata = [
            "lem.kind": "lm", "lem.model": stored.modelJSON, "lem.level": tool.level.rawValue, "lem.vocabulary": vocabulary,
            "lem.cell": config.cell.rawValue, "lem.layers": String(config.layers), "lem.hidden_size": String(config.hiddenSize),
            "lem.end_of_sentence": endOfSentence, "lem.unknown": unknownToken,
            "lem.tokenization": tokenizationNote(tool.level),
            // lm eval and lm sample start a text after this token (id), so that the first token is predicted too.
            "lem.start_token_id": String(contextToken(tool.vocabulary, level: tool.level)),
            // The logits go out unscaled; `lm eval` of a checkpoint trained with --preset ptb-word/ptb-char multiplies them by
            // the logit scale lamb's search picks on the validation split (`lm eval --logit-scale 1` gives the unscaled figure).
            "lem.logit_scale": tool.temperatureSearch == true
                ? "unscaled; lm eval searches a multiplier on the validation split for this checkpoint (lm eval --json prints it as logit_scale)"
                : "1",
        ]
        if let quantization = stored.quantization { metadata["lem.quantization"] = quantization + " (exported dequantized)" }
        let doc = """
            lem language model (\(config.layers) × \(config.cell.displayName), hidden \(config.hiddenSize), \
            vocabulary \(config.vocabularySize)) exported by `lm export` from \(URL(fileURLWithPath: checkpoint).lastPathComponent). \
            Inputs: tokens int64 [batch, time]; state_y\(config.cell.hasCellState ? ", state_z" : "") [\(config.layers), batch, \(config.hiddenSize)] \
            (zeros start a text). Outputs: logits [batch, time, \(config.vocabularySize)] and the state after the last token.
            """
        let bytes: [UInt8]
        do {
            bytes = try ONNXModel.languageModel(stack: stack, vocabularySize: config.vocabularySize, tied: config.tied,
                                                tensors: tensorLookup(stored), metadata: metadata, docString: doc)
        } catch let error as ONNXExportError {
            throw CheckpointError(path: checkpoint, problem: error.description)
        }
        try writeONNX(bytes, to: path)
        let states = ONNXModel.stateNames(config.cell)
        return ONNXExportSummary(path: path, bytes: bytes.count, cell: config.cell, layers: config.layers,
                                 inputs: ["tokens"] + states, outputs: ["logits"] + states.map { $0 + "_out" }, quantization: stored.quantization)
    }
}

/// How `lm` turns text into the ids the export takes (Text/Tokenizer.swift), for its metadata.
func tokenizationNote(_ level: TextLevel) -> String {
    switch level {
    case .word: return "split each line on spaces and tabs and append <eos>; a word outside the vocabulary is <unk> when the vocabulary has it"
    case .char: return "ptb.char files: split each line on spaces (characters, `_` between words) and append <eos>"
    case .text: return "every character (grapheme) of the UTF-8 text is a token, the line break included"
    }
}

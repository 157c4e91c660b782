import Foundation
import LEMModel
import Text

/// What `lm` stores in a checkpoint besides the model: everything eval and sample need.
package struct LMToolData: Codable {
    package var level: TextLevel
    package var vocabulary: Vocabulary
    /// Training settings, for the record (shown by eval; used by --resume).
    package var batch: Int
    package var bptt: Int
    package var evalStreams: Int
    /// Where the training text came from.
    package var corpus: [String]
    /// Evaluate at the softmax temperature lamb's search picks on the validation split (the
    /// authors' `eval_softmax_temperature` −0.8); nil or false: at temperature 1.
    package var temperatureSearch: Bool?
}

/// Loads an `lm` checkpoint: the model with its parameters, and the tool data.
/// The model of an `lm` checkpoint; with `int8` (or a checkpoint written by `lm quantize`) its
/// products run in int8 (`LanguageModel.quantizeForInference`).
package func loadLanguageModel(_ path: String, int8: Bool = false) throws -> (LanguageModel, LMToolData, Checkpoint) {
    let checkpoint = try Checkpoint.read(path: path, expectedKind: "lm")
    let tool = try checkpoint.tool(LMToolData.self)
    let model = try checkpoint.languageModel()
    guard tool.vocabulary.count == model.config.vocabularySize else {
        throw CheckpointError(path: path, problem: "the vocabulary (\(tool.vocabulary.count) tokens) does not match the model (\(model.config.vocabularySize))")
    }
    if int8 || checkpoint.isQuantized { model.quantizeForInference() }
    return (model, tool, checkpoint)
}

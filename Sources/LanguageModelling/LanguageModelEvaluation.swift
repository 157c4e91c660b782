import Foundation
import LEMModel
import TaskSupport
import Text

/// `lm eval` as one call: a language model on a split of a corpus folder (or any file), as one
/// sequential stream or `streams` parallel ones, at a logit scale given, searched as lamb does on
/// the folder's validation split, or 1.
package struct LanguageModelEvaluation {
    package var checkpoint: String
    package var int8 = false
    /// The corpus folder (nil: the built-in corpus) and its split, or a file instead.
    package var data: String?
    package var split = "test"
    package var file: String?
    package var streams = 1
    /// A multiplier of the logits; nil: searched if `search` (default: as the checkpoint was trained), else 1.
    package var logitScale: Float?
    package var search: Bool?

    package init(checkpoint: String) { self.checkpoint = checkpoint }

    package struct Result {
        package var level: TextLevel
        package var path: String
        /// Mean cross-entropy (nats) over `tokens`, at `logitScale`.
        package var meanLoss: Double
        package var tokens: Int
        package var logitScale: Float
        package var seconds: Double
        /// Perplexity (words) or bits per character.
        package var headline: Double { LanguageModelling.headline(meanLoss, level: level) }
    }

    package func run() throws -> Result {
        let (model, tool, _) = try loadLanguageModel(checkpoint, int8: int8)
        let path: String
        if let file { path = file } else {
            let dir = try data ?? DefaultCorpus.text.directory()
            path = try LanguageCorpus.standardFile(directory: dir, level: tool.level, split: split)
        }
        let tokens = try LanguageCorpus.encode(file: path, level: tool.level, vocabulary: tool.vocabulary)
        let context = contextToken(tool.vocabulary, level: tool.level)
        let start = monotonicSeconds()
        var scale = logitScale ?? 1
        if logitScale == nil, search ?? (tool.temperatureSearch == true) {
            guard file == nil || data != nil else {
                throw SettingsError("--temperature-search needs --data (its validation split chooses the logit scale)")
            }
            let dir = try data ?? DefaultCorpus.text.directory()
            let valid = try LanguageCorpus.encode(file: try LanguageCorpus.standardFile(directory: dir, level: tool.level, split: "valid"),
                                                  level: tool.level, vocabulary: tool.vocabulary)
            scale = evaluateWithTemperatureSearch(model, tokens: valid, context: context, streams: streams).temperature
        }
        let (loss, count) = scale == 1
            ? evaluate(model, tokens: tokens, context: context, streams: streams)
            : { let r = evaluateTempered(model, tokens: tokens, context: context, streams: streams, scales: [scale]); return (r.full[0], r.tokens) }()
        return Result(level: tool.level, path: path, meanLoss: loss / Double(count), tokens: count, logitScale: scale,
                      seconds: monotonicSeconds() - start)
    }
}

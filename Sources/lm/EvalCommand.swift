import ArgumentParser
import Foundation
import LEMModel
import ToolSupport
import Text

extension LM {
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Perplexity (word level) or bits per character of a model on a split.",
            discussion: """
                Evaluates every token of the split, with an end-of-sentence token after each
                line (Mikolov's convention), as one sequential stream from a zero state:
                perplexity = exp(mean cross-entropy in nats); bpc = mean cross-entropy / ln 2.

                Examples:
                  lm eval --checkpoint ptb-word.ckpt --data corpora/ptb --split test
                  lm eval --checkpoint novel.ckpt --file novel-test.txt --json
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Corpus directory in Mikolov's layout.", valueName: "dir")) var data: String?
        @Option(help: "Split of --data: valid or test.") var split: String = "test"
        @Option(help: ArgumentHelp("A text file to evaluate instead of --data.", valueName: "file")) var file: String?
        @Option(name: .customLong("eval-streams"), help: "Parallel streams (1 = exact sequential evaluation; more is faster, each stream starts from a zero state).") var evalStreams: Int = 1
        @Flag(help: "Print one JSON object.") var json = false

        mutating func validate() throws {
            guard ["valid", "test", "train"].contains(split) else { throw ValidationError("--split must be valid or test (got \(split))") }
            if data != nil && file != nil { throw ValidationError("give --data or --file, not both") }
            if evalStreams < 1 { throw ValidationError("--eval-streams must be at least 1") }
        }

        func run() throws {
            try reportingErrors {
                let (model, tool, _) = try loadLanguageModel(checkpoint.checkpoint)
                let path: String
                if let file { path = file } else {
                    let dir = try data ?? DefaultCorpus.text.directory()
                    path = try LanguageCorpus.standardFile(directory: dir, level: tool.level, split: split)
                }
                let tokens = try LanguageCorpus.encode(file: path, level: tool.level, vocabulary: tool.vocabulary)
                let start = monotonicSeconds()
                let (loss, count) = evaluate(model, tokens: tokens, context: contextToken(tool.vocabulary, level: tool.level), streams: evalStreams)
                let seconds = monotonicSeconds() - start
                let mean = loss / Double(count)
                let value = headline(mean, level: tool.level)
                if json {
                    var object: [String: Any] = ["split": file == nil ? split : "file", "file": path, "tokens": count,
                                                 "cross_entropy": mean, "level": tool.level.rawValue, "checkpoint": checkpoint.checkpoint,
                                                 "tokens_per_s": Double(count) / max(seconds, 1e-9)]
                    object[tool.level == .word ? "perplexity" : "bpc"] = value
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    let name = tool.level == .word ? "perplexity" : "bits per character"
                    print(String(format: "%@ %.4f on %@ (%@ tokens, cross-entropy %.4f nats/token, %.1fs)",
                                 name, value, path, formatCount(Double(count)), mean, seconds))
                }
            }
        }
    }
}

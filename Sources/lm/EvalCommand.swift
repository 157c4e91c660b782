import ArgumentParser
import Foundation
import LEMModel
import LanguageModelling
import TaskSupport
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

                --logit-scale S multiplies the logits by S before the softmax (what lamb calls
                eval_softmax_temperature; `lm sample --temperature T` divides them by T, so
                S = 1/T); --temperature-search picks S as the authors' lamb does (1.06 down to
                0.80 in steps of 0.02, on the first 50,000 tokens of the validation split of
                --data) and then evaluates the split at it. Checkpoints trained with --preset
                ptb-word/ptb-char search by default. (--temperature, this option's old name,
                still works and says it is deprecated.)

                Examples:
                  lm eval --checkpoint ptb-word.ckpt --data corpora/ptb --split test
                  lm eval --checkpoint novel.ckpt --file novel-test.txt --json
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Option(help: ArgumentHelp("Corpus directory in Mikolov's layout.", valueName: "dir")) var data: String?
        @Option(help: "Split of --data: valid or test.") var split: String = "test"
        @Option(help: ArgumentHelp("A text file to evaluate instead of --data.", valueName: "file")) var file: String?
        @Option(name: .customLong("eval-streams"), help: "Parallel streams (1 = exact sequential evaluation; more is faster, each stream starts from a zero state).") var evalStreams: Int = 1
        @Option(name: .customLong("logit-scale"), help: "Multiply the logits by this before the softmax (default 1, or searched: see --temperature-search).") var logitScale: Float?
        @Option(name: .customLong("temperature"), help: ArgumentHelp("Deprecated name of --logit-scale (a multiplier, unlike lm sample's --temperature).", visibility: .hidden))
        var deprecatedTemperature: Float?
        @Flag(name: .customLong("temperature-search"), inversion: .prefixedNo,
              help: "Choose --logit-scale on the validation split of --data as lamb does (default: as the checkpoint was trained).")
        var temperatureSearch: Bool?
        @Flag(help: "Print one JSON object.") var json = false

        mutating func validate() throws {
            guard ["valid", "test", "train"].contains(split) else { throw ValidationError("--split must be valid or test (got \(split))") }
            if data != nil && file != nil { throw ValidationError("give --data or --file, not both") }
            if evalStreams < 1 { throw ValidationError("--eval-streams must be at least 1") }
            if let deprecatedTemperature {
                if logitScale != nil { throw ValidationError("give --logit-scale only (--temperature is its deprecated name)") }
                writeStandardError("lm eval: --temperature is deprecated: it multiplies the logits (lm sample's --temperature divides them); use --logit-scale \(deprecatedTemperature)\n")
                logitScale = deprecatedTemperature
            }
            if let logitScale, !(logitScale > 0 && logitScale.isFinite) { throw ValidationError("--logit-scale must be positive") }
            if logitScale != nil && temperatureSearch == true { throw ValidationError("give --logit-scale or --temperature-search, not both") }
        }

        func run() throws {
            try reportingErrors {
                var evaluation = LanguageModelEvaluation(checkpoint: checkpoint.checkpoint)
                (evaluation.int8, evaluation.data, evaluation.split, evaluation.file) = (precision.int8, data, split, file)
                (evaluation.streams, evaluation.logitScale, evaluation.search) = (evalStreams, logitScale, temperatureSearch)
                let r = try evaluation.run()
                if json {
                    var object: [String: Any] = ["split": file == nil ? split : "file", "file": r.path, "tokens": r.tokens,
                                                 "cross_entropy": r.meanLoss, "level": r.level.rawValue, "checkpoint": checkpoint.checkpoint,
                                                 "tokens_per_s": Double(r.tokens) / max(r.seconds, 1e-9), "logit_scale": Double(r.logitScale),
                                                 "temperature": Double(r.logitScale)]   // the old key, kept for scripts that read it
                    object[r.level == .word ? "perplexity" : "bpc"] = r.headline
                    print(jsonLine(object))
                } else {
                    let name = r.level == .word ? "perplexity" : "bits per character"
                    print(String(format: "%@ %.4f on %@ (%@ tokens, cross-entropy %.4f nats/token%@, %.1fs)",
                                 name, r.headline, r.path, formatCount(Double(r.tokens)), r.meanLoss,
                                 r.logitScale == 1 ? "" : String(format: ", logit scale %.2f", Double(r.logitScale)), r.seconds))
                }
            }
        }
    }
}

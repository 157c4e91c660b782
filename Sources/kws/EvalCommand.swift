import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

/// Which clips an evaluation counts.
enum EvaluationProtocol: String, ExpressibleByArgument, CaseIterable {
    /// TensorFlow speech_commands' 12-class split: unknown words subsampled and silence generated
    /// as the checkpoint's dataset settings say (`--silence-percentage`, `--unknown-percentage`).
    case tf
    /// The authors' (tk-rusch/LEM, src/Google12): every clip of the split's list, every
    /// non-keyword word as unknown, no silence (their valid/test folders hold none).
    case lem
}

extension KWS {
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accuracy, per-class accuracy and confusion matrix of a trained model.",
            discussion: """
                Splits are those of the folder's testing_list.txt / validation_list.txt
                (everything else is training); silence and unknown examples are made as the
                checkpoint's dataset settings say (TF speech_commands semantics).
                Accuracy = correct / total over every clip of the split. --protocol lem counts
                the clips the authors' loader does (every clip of the list, non-keywords as
                unknown, no silence), so the figure can be set beside the paper's; tf (default)
                is TensorFlow's split with the checkpoint's silence and unknown percentages. The confusion matrix
                is also drawn as an SVG heat map (--confusion-svg; default
                <checkpoint>.confusion-<split>.svg).

                Examples:
                  kws eval --checkpoint g12.ckpt --data speech_commands_v0.02 --split test
                  kws eval --checkpoint kws.ckpt --data corpora/generated/speech \\
                      --split all --json
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Option(help: ArgumentHelp("Speech Commands folder (default: the built-in corpus).", valueName: "dir")) var data: String?
        @Option(help: "test, valid or all.") var split: String = "test"
        @Option(help: "Which clips count: tf (TensorFlow's split, the default) or lem (the authors': every listed clip, no silence).")
        var `protocol`: EvaluationProtocol = .tf
        @Option(name: .customLong("confusion-svg"), help: ArgumentHelp("Where to draw the confusion matrix (default: <checkpoint>.confusion-<split>.svg; \"none\" to skip).", valueName: "file"))
        var confusionSVG: String?
        @Flag(help: "Print one JSON object.") var json = false

        mutating func validate() throws {
            guard ["test", "valid", "all"].contains(split) else { throw ValidationError("--split must be test, valid or all (got \(split))") }
        }

        func run() throws {
            try reportingErrors {
                let spotter = try KeywordSpotter(checkpoint: checkpoint.checkpoint, int8: precision.int8)
                let root = try data ?? DefaultCorpus.speech.directory()
                var options = spotter.tool.dataset
                options.streamNegatives = StreamNegatives()   // training-only examples: not part of any evaluated split
                if `protocol` == .lem { (options.unknownPercentage, options.silenceInEvaluationSplits) = (nil, false) }
                let dataset = try SpeechCommands(root: root, options: options)
                let splits: [DatasetSplit] = split == "test" ? [.testing] : split == "valid" ? [.validation] : DatasetSplit.allCases
                var total: ClassificationReport?
                for s in splits where !dataset.examples(s).isEmpty {
                    var features = try dataset.features(s, extractor: spotter.extractor)
                    spotter.tool.normalizer.apply(&features.values)
                    let report = evaluate(spotter.model, features, labels: spotter.tool.labels)
                    if var t = total {
                        for i in t.confusion.indices { for j in t.confusion.indices { t.confusion[i][j] += report.confusion[i][j] } }
                        t.loss = (t.loss * Double(t.count - report.count) + report.loss * Double(report.count)) / Double(t.count)
                        total = t
                    } else { total = report }
                }
                guard let report = total else {
                    throw SpeechCommandsError("\(root): no clips in the \(split) split")
                }
                let svg = confusionSVG ?? "\(checkpoint.checkpoint).confusion-\(split).svg"
                if svg != "none" {
                    try writeConfusionChart(report.confusion, labels: report.labels,
                                            title: String(format: "%@: %@ split, accuracy %.2f%% (%d clips)", checkpoint.checkpoint, split,
                                                          100 * report.accuracy, report.count), to: svg)
                }
                if json {
                    let perClass = report.labels.indices.map { report.classAccuracy($0) as Any? ?? NSNull() }
                    let object: [String: Any] = ["accuracy": report.accuracy, "count": report.count, "split": split,
                                                 "confusion": report.confusion, "labels": report.labels,
                                                 "class_accuracy": perClass, "cross_entropy": report.loss,
                                                 "checkpoint": checkpoint.checkpoint, "data": root, "confusion_svg": svg,
                                                 "protocol": `protocol`.rawValue]
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                    print(String(decoding: data, as: UTF8.self))
                } else {
                    print(String(format: "%@ accuracy %.2f%% (%d of %d clips, %@ protocol, %@)", split, 100 * report.accuracy, report.correct,
                                 report.count, `protocol`.rawValue, root))
                    print(report.table, terminator: "")
                    if svg != "none" { print("confusion matrix: \(svg)") }
                }
            }
        }
    }
}

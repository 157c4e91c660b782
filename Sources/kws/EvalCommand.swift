import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension EvaluationProtocol: ExpressibleByArgument {}

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
                var evaluation = KeywordEvaluation(checkpoint: checkpoint.checkpoint)
                (evaluation.int8, evaluation.data, evaluation.split) = (precision.int8, data, split)
                (evaluation.evaluationProtocol, evaluation.confusionSVG) = (`protocol`, confusionSVG)
                let (report, root, svg) = try evaluation.run()
                if json {
                    let perClass = report.labels.indices.map { report.classAccuracy($0) as Any? ?? NSNull() }
                    print(jsonLine(["accuracy": report.accuracy, "count": report.count, "split": split, "confusion": report.confusion,
                                    "labels": report.labels, "class_accuracy": perClass, "cross_entropy": report.loss,
                                    "checkpoint": checkpoint.checkpoint, "data": root, "confusion_svg": svg, "protocol": `protocol`.rawValue]))
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

import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

extension Seq {
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accuracy (classifier) or RMSE (regressor) of a checkpoint on a file or a task's set.",
            discussion: """
                The RMSE is the root of the mean squared error over every output of every
                sequence (for FitzHugh-Nagumo, every step of every sequence: the authors' script
                scores only its last batch). --predictions also lists each sequence's prediction.

                Examples:
                  seq eval --checkpoint smnist.ckpt --task smnist --split valid
                  seq eval --checkpoint fhn.ckpt --task fhn --split test
                  seq eval --checkpoint m.ckpt --file test.ts
                  seq eval --checkpoint m.ckpt --file test.csv --features 3 --predictions --json
                  seq eval --checkpoint smnist.ckpt --task smnist --int8
                """)

        @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file")) var checkpoint = "seq.ckpt"
        @OptionGroup(title: "Data") var data: DataSourceOptions
        @Flag(help: "Also print each sequence's predicted class and probabilities, or predicted values.") var predictions = false
        @OptionGroup var precision: PrecisionOption
        @Flag(help: "JSON lines.") var json = false

        func run() throws {
            try reportingErrors {
                var evaluation = SequenceEvaluation(checkpoint: checkpoint, source: data.source)
                evaluation.features = data.features
                evaluation.int8 = precision.int8
                let printer = PredictionPrinter(json: json)
                let r = try evaluation.run(predictions: predictions ? { printer.print($0, $1) } : nil)
                let lossName = r.metricName == "accuracy" ? "cross_entropy" : "mse"
                if json {
                    print(jsonLine([r.metricName.lowercased(): r.metric, lossName: r.loss, "count": r.count, "data": evaluation.data, "checkpoint": checkpoint]))
                } else if r.metricName == "accuracy" {
                    print(String(format: "accuracy %.2f%% on %@ (%d sequences, cross-entropy %.4f)", 100 * r.metric, evaluation.data, r.count, r.loss))
                } else {
                    print(String(format: "RMSE %.5g on %@ (%d sequences, mean squared error %.5g)", r.metric, evaluation.data, r.count, r.loss))
                }
            }
        }
    }

    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each sequence's prediction: class and probabilities, or predicted values; labels not needed.",
            discussion: """
                Reads an .npz with an array x alone ([N, T, F] or [N, T]), a .csv of values only
                (T × F per line; a leading label column is skipped when the line has one value
                more than the training sequences), any labelled file seq eval reads, or a task's
                set. Prints one line per sequence: its index, then the class name and the
                probabilities in class order, or the predicted values (every step's, for a
                model read out at every step).

                Examples:
                  seq predict --checkpoint worms.ckpt --file new_worms.npz
                  seq predict --checkpoint fhn.ckpt --task fhn --split test --json > predictions.jsonl
                """)

        @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file")) var checkpoint = "seq.ckpt"
        @OptionGroup(title: "Data") var data: DataSourceOptions
        @OptionGroup var precision: PrecisionOption
        @Flag(help: "JSON lines.") var json = false

        func run() throws {
            try reportingErrors {
                var prediction = SequencePrediction(checkpoint: checkpoint, source: data.source)
                prediction.features = data.features
                prediction.int8 = precision.int8
                let printer = PredictionPrinter(json: json)
                printer.classNames = try SequenceEvaluation.classNames(checkpoint: checkpoint)
                try prediction.run { printer.print($0, $1) }
            }
        }
    }
}

/// One line per prediction, as text or JSON.
final class PredictionPrinter {
    let json: Bool
    var classNames: [String] = []
    init(json: Bool) { self.json = json }

    func print(_ i: Int, _ prediction: SequenceEvaluation.Prediction) {
        switch prediction {
        case let .classProbabilities(best, p):
            let name = Int(best) < classNames.count ? classNames[Int(best)] : "\(best)"
            Swift.print(json ? jsonLine(["sequence": i, "class": Int(best), "name": name, "probabilities": p.map(Double.init)])
                             : "\(i)\t\(name)\t" + p.map { String(format: "%.3f", $0) }.joined(separator: " "))
        case let .values(v):
            Swift.print(json ? jsonLine(["sequence": i, "prediction": v.map(Double.init)])
                             : "\(i)\t" + v.map { String(format: "%.6g", $0) }.joined(separator: " "))
        }
    }
}

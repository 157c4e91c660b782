import ArgumentParser
import Foundation
import SequenceModelling
import TaskSupport
import ToolSupport

extension Seq {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw training runs' validation curves in one SVG (accuracy, or RMSE for regressors).",
            discussion: """
                Each metrics log (<checkpoint>.metrics.jsonl, written by seq train) becomes one
                curve against training minutes (--x minutes, for equal-time comparisons) or epochs.

                Examples:
                  seq plot lem.ckpt.metrics.jsonl gru.ckpt.metrics.jsonl --out smnist.svg
                  seq plot fhn.ckpt.metrics.jsonl --metric RMSE --log-y --out fhn.svg
                """)

        @OptionGroup var options: PlotOptions
        @Option(help: "The metric to draw: accuracy or RMSE.") var metric = "accuracy"

        mutating func validate() throws {
            guard ["accuracy", "RMSE"].contains(metric) else { throw ValidationError("--metric must be accuracy or RMSE (got \(metric))") }
        }

        func run() throws {
            try reportingErrors {
                try writeRunComparison(metricsPaths: options.logs, to: options.out, metricName: metric, againstMinutes: options.x == "minutes",
                                       logY: options.logY, title: options.title ?? "seq: validation \(metric)")
                print("wrote \(options.out)")
            }
        }
    }
}

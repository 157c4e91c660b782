import ArgumentParser
import ToolSupport

extension KWS {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the validation-accuracy curves of several training runs in one SVG.",
            discussion: """
                Each metrics log (<checkpoint>.metrics.jsonl, written by kws train) becomes one
                curve of validation accuracy against training minutes (--x minutes) or epochs.

                Example:
                  kws plot lem.ckpt.metrics.jsonl gru.ckpt.metrics.jsonl --out compare.svg
                """)

        @OptionGroup var options: PlotOptions

        func run() throws {
            try reportingErrors {
                try writeRunComparison(metricsPaths: options.logs, to: options.out, metricName: "accuracy",
                                       againstMinutes: options.x == "minutes", logY: options.logY, title: options.title ?? "kws: validation accuracy")
                print("wrote \(options.out)")
            }
        }
    }
}

import ArgumentParser
import TaskSupport
import ToolSupport

extension LM {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the validation curves of several training runs in one SVG.",
            discussion: """
                Each metrics log (<checkpoint>.metrics.jsonl, written by lm train) becomes one
                curve of validation perplexity (or bits per character) against training minutes
                (--x minutes: runs at an equal time budget) or epochs.

                Example:
                  lm plot lem.ckpt.metrics.jsonl gru.ckpt.metrics.jsonl --out compare.svg
                """)

        @OptionGroup var options: PlotOptions
        @Option(help: "The metric's name on the y axis.") var metric: String = "perplexity"

        func run() throws {
            try reportingErrors {
                try writeRunComparison(metricsPaths: options.logs, to: options.out, metricName: metric,
                                       againstMinutes: options.x == "minutes", logY: options.logY, title: options.title ?? "lm: validation \(metric)")
                print("wrote \(options.out)")
            }
        }
    }
}

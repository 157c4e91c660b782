import ArgumentParser
import Foundation
import KeywordSpotting
import TaskSupport
import ToolSupport

extension KWS {
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw several training runs' accuracy curves, or several DET curves, in one SVG.",
            discussion: """
                Each metrics log (<checkpoint>.metrics.jsonl, written by kws train) becomes one
                curve of validation accuracy against training minutes (--x minutes) or epochs.
                With --det, the files are DET curves written by kws eval-stream --sweep
                (<stream>.det.csv) and each becomes a curve of miss rate against false alarms
                per hour, to compare models on the same stream.

                Examples:
                  kws plot lem.ckpt.metrics.jsonl gru.ckpt.metrics.jsonl --out compare.svg
                  kws plot --det before.det.csv after.det.csv --out det.svg
                """)

        @OptionGroup var options: PlotOptions
        @Flag(help: "The files are DET curves (kws eval-stream --sweep CSVs: threshold,miss_rate,fa_per_hour,…).") var det = false

        func run() throws {
            try reportingErrors {
                if det {
                    let series = try options.logs.map { path in ChartSeries(name: displayName(path), points: try readDETCurve(path: path)) }
                    try writeLineChart(series, title: options.title ?? "kws: miss rate against false alarms per hour",
                                       xLabel: "false alarms per hour", yLabel: "miss rate (%)", logY: options.logY,
                                       logX: series.contains { $0.points.contains { $0.x > 0 } }, to: options.out)
                } else {
                    try writeRunComparison(metricsPaths: options.logs, to: options.out, metricName: "accuracy",
                                           againstMinutes: options.x == "minutes", logY: options.logY, title: options.title ?? "kws: validation accuracy")
                }
                print("wrote \(options.out)")
            }
        }

        func displayName(_ path: String) -> String {
            let name = (path as NSString).lastPathComponent
            return name.hasSuffix(".det.csv") ? String(name.dropLast(8)) : name.hasSuffix(".csv") ? String(name.dropLast(4)) : name
        }
    }
}

/// The points (false alarms per hour, miss rate in %) of a DET curve CSV written by
/// `kws eval-stream --sweep`; errors name the file and line.
func readDETCurve(path: String) throws -> [(x: Double, y: Double)] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw KWSStreamError("\(path): cannot read the DET curve (\(error.localizedDescription))")
    }
    var points: [(x: Double, y: Double)] = []
    for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() where !line.isEmpty {
        if number == 0 && line.hasPrefix("threshold") { continue }
        let f = line.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard f.count >= 3, let miss = f[1], let fa = f[2], miss.isFinite, fa.isFinite, (0...1).contains(miss), fa >= 0 else {
            throw KWSStreamError("\(path):\(number + 1): expected threshold,miss_rate,fa_per_hour with a miss rate in [0, 1], got \"\(line)\"")
        }
        points.append((fa, 100 * miss))
    }
    guard !points.isEmpty else { throw KWSStreamError("\(path): no DET points") }
    return points
}

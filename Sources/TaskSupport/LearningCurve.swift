import Foundation
import LEMModel

/// Writes an SVG plot of a run's learning curve from its metrics log (MetricsLog JSON lines):
/// training and validation loss per epoch, and the validation metric (perplexity, bpc,
/// accuracy) on a second axis. Opens in any browser.
public func writeLearningCurve(metricsPath: String, to path: String, title: String, metricName: String) throws {
    let records = MetricsLog.records(path: metricsPath).filter { $0["event"] as? String == "valid" }
    // A resumed run may repeat epochs; keep the last record of each.
    var byEpoch: [Int: [String: Any]] = [:]
    for r in records { if let e = r["epoch"] as? Double { byEpoch[Int(e)] = r } }
    let epochs = byEpoch.keys.sorted()
    guard !epochs.isEmpty else { throw ToolError(description: "no validation records in \(metricsPath)") }
    let train = epochs.map { byEpoch[$0]?["train_loss"] as? Double ?? .nan }
    let valid = epochs.map { byEpoch[$0]?["loss"] as? Double ?? .nan }
    let values = epochs.map { byEpoch[$0]?["metric"] as? Double ?? .nan }

    let (width, height, left, right, top, bottom) = (720.0, 440.0, 70.0, 80.0, 60.0, 50.0)
    let plotW = width - left - right, plotH = height - top - bottom
    let losses = (train + valid).filter { $0.isFinite }
    let (lo, hi) = (losses.min() ?? 0, max(losses.max() ?? 1, (losses.min() ?? 0) + 1e-6))
    let metricValues = values.filter { $0.isFinite }
    let (mlo, mhi) = (metricValues.min() ?? 0, max(metricValues.max() ?? 1, (metricValues.min() ?? 0) + 1e-6))
    let xMax = Double(max(epochs.last!, 2))
    func x(_ e: Int) -> Double { left + plotW * (Double(e) - 1) / (xMax - 1) }
    func y(_ v: Double) -> Double { top + plotH * (1 - (v - lo) / (hi - lo)) }
    func ym(_ v: Double) -> Double { top + plotH * (1 - (v - mlo) / (mhi - mlo)) }
    func line(_ series: [Double], _ map: (Double) -> Double, _ color: String, dash: String = "") -> String {
        let points = zip(epochs, series).filter { $0.1.isFinite }.map { String(format: "%.1f,%.1f", x($0.0), map($0.1)) }
        let dots = zip(epochs, series).filter { $0.1.isFinite }.map { String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%@\"/>", x($0.0), map($0.1), color) }
        return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" \(dash) points=\"\(points.joined(separator: " "))\"/>" + dots.joined()
    }
    var svg = svgFrame(width: width, height: height, title: title, plot: (left, top, plotW, plotH))
    for i in 0...4 {
        let v = lo + (hi - lo) * Double(i) / 4, mv = mlo + (mhi - mlo) * Double(i) / 4
        svg += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>", left - 6, y(v) + 4, v)
        svg += String(format: "<text x=\"%.0f\" y=\"%.1f\" fill=\"#c60\">%.4g</text>\n", left + plotW + 6, ym(mv) + 4, mv)
    }
    for e in epochs { svg += String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>", x(e), top + plotH + 18, e) }
    svg += "<text x=\"\(Int(left + plotW / 2))\" y=\"\(Int(height - 10))\" text-anchor=\"middle\">epoch</text>\n"
    svg += "<text transform=\"translate(18,\(Int(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">cross-entropy (nats)</text>\n"
    svg += "<text transform=\"translate(\(Int(width - 14)),\(Int(top + plotH / 2))) rotate(90)\" text-anchor=\"middle\" fill=\"#c60\">valid \(escapeXML(metricName))</text>\n"
    svg += line(train, y, "#36c") + "\n" + line(valid, y, "#393") + "\n" + line(values, ym, "#c60", dash: "stroke-dasharray=\"5,4\"") + "\n"
    // Legend between the title and the plot, clear of the data.
    svg += "<text x=\"\(Int(left))\" y=\"\(Int(top - 10))\" fill=\"#36c\">— train loss</text>"
    svg += "<text x=\"\(Int(left + 100))\" y=\"\(Int(top - 10))\" fill=\"#393\">— valid loss</text>"
    svg += "<text x=\"\(Int(left + 200))\" y=\"\(Int(top - 10))\" fill=\"#c60\">- - valid \(escapeXML(metricName))</text>\n</svg>\n"
    try writeSVG(svg, to: path)
}

/// Writes one SVG comparing the validation metric of several runs (their metrics logs), against
/// training minutes or epochs: the curves of docs/COMPARISON.md. A run is named after its log
/// file, without `.metrics.jsonl` and `.ckpt`.
public func writeRunComparison(metricsPaths: [String], to path: String, metricName: String, againstMinutes: Bool,
                               logY: Bool = false, title: String) throws {
    let series = try metricsPaths.map { log -> ChartSeries in
        guard FileManager.default.fileExists(atPath: log) else { throw ToolError(description: "\(log): no such metrics log") }
        var byEpoch: [Int: (minutes: Double, metric: Double)] = [:]
        for r in MetricsLog.records(path: log) where r["event"] as? String == "valid" {
            if let epoch = r["epoch"] as? Double, let seconds = r["elapsed_s"] as? Double, let metric = r["metric"] as? Double {
                byEpoch[Int(epoch)] = (seconds / 60, metric)   // a resumed run may repeat an epoch: keep the last
            }
        }
        guard !byEpoch.isEmpty else { throw ToolError(description: "\(log): no validation records") }
        let points = byEpoch.keys.sorted().map { (x: againstMinutes ? byEpoch[$0]!.minutes : Double($0), y: byEpoch[$0]!.metric) }
        var name = URL(fileURLWithPath: log).lastPathComponent
        for suffix in [".metrics.jsonl", ".jsonl", ".ckpt"] where name.hasSuffix(suffix) { name = String(name.dropLast(suffix.count)) }
        return ChartSeries(name: name, points: points)
    }
    try writeLineChart(series, title: title, xLabel: againstMinutes ? "training minutes" : "epoch",
                       yLabel: "valid " + metricName, logY: logY, to: path)
}

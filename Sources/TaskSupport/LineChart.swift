import Foundation

/// One named series of (x, y) points for `writeLineChart`.
public struct ChartSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public init(name: String, points: [(x: Double, y: Double)]) { (self.name, self.points) = (name, points) }
}

/// Writes an SVG line chart of several series on shared axes (comparison curves: validation
/// perplexity against minutes for three cells, test MSE against steps). `logY` plots y on a log
/// scale, `logX` x (DET curves: false alarms per hour over decades); non-positive values are then
/// left out. Opens in any browser; written atomically.
public func writeLineChart(_ series: [ChartSeries], title: String, xLabel: String, yLabel: String, logY: Bool = false,
                           logX: Bool = false, to path: String) throws {
    let (width, height, left, right, top, bottom) = (720.0, 440.0, 80.0, 30.0, 60.0, 50.0)
    let (plotW, plotH) = (width - left - right, height - top - bottom)
    func ty(_ v: Double) -> Double { logY ? log10(v) : v }
    func tx(_ v: Double) -> Double { logX ? log10(v) : v }
    let usable = series.map { s in s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) && (!logX || $0.x > 0) } }
    let xs = usable.joined().map { tx($0.x) }, ys = usable.joined().map { ty($0.y) }
    guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else {
        throw ToolError(description: "\(path): nothing to plot")
    }
    // x (minutes, steps, epochs) starts at 0 and both linear axes end on round ticks, so a
    // reader sees 0, 30, 60, 90, 120 minutes rather than the first and last point's values.
    // A log axis runs over whole decades.
    let xTicks = logX ? (Int(floor(x0))...max(Int(ceil(x1)), Int(floor(x0)) + 1)).map(Double.init)
                      : roundTicks(from: min(x0, 0), to: max(x1, x0 + 1e-9))
    let (xLo, xHi) = (xTicks.first!, xTicks.last!)
    let yTicks = logY ? (0...4).map { y0 + (max(y1, y0 + 1e-9) - y0) * Double($0) / 4 } : roundTicks(from: y0, to: max(y1, y0 + 1e-9))
    let (yLo, yHi) = (yTicks.first!, yTicks.last!)
    func px(_ x: Double) -> Double { left + plotW * (tx(x) - xLo) / (xHi - xLo) }
    func py(_ y: Double) -> Double { top + plotH * (1 - (ty(y) - yLo) / (yHi - yLo)) }
    let colors = ["#36c", "#c33", "#393", "#c60", "#639", "#066"]
    var svg = svgFrame(width: width, height: height, title: title, plot: (left, top, plotW, plotH))
    for fy in yTicks {
        let label = logY ? String(format: "%.3g", pow(10, fy)) : String(format: "%.4g", fy)
        svg += String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%@</text>\n", left - 6,
                      top + plotH * (1 - (fy - yLo) / (yHi - yLo)) + 4, label)
    }
    for fx in xTicks {
        svg += String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.4g</text>\n", left + plotW * (fx - xLo) / (xHi - xLo),
                      top + plotH + 18, logX ? pow(10, fx) : fx)
    }
    svg += "<text x=\"\(Int(left + plotW / 2))\" y=\"\(Int(height - 10))\" text-anchor=\"middle\">\(escapeXML(xLabel))\(logX ? " (log scale)" : "")</text>\n"
    svg += "<text transform=\"translate(18,\(Int(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeXML(yLabel))\(logY ? " (log scale)" : "")</text>\n"
    var legendX = Int(left)  // each legend entry as wide as its name (about 7 px a character)
    for (k, points) in usable.enumerated() where !points.isEmpty {
        let color = colors[k % colors.count]
        let coordinates = points.map { String(format: "%.1f,%.1f", px($0.x), py($0.y)) }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(coordinates)\"/>\n"
        svg += "<text x=\"\(legendX)\" y=\"\(Int(top - 10))\" fill=\"\(color)\">— \(escapeXML(series[k].name))</text>\n"
        legendX += 7 * (series[k].name.count + 2) + 20
    }
    svg += "</svg>\n"
    try writeSVG(svg, to: path)
}

/// Axis ticks at a round spacing (1, 2, 2.5, 3 or 5 × 10^k) covering [lo, hi] in at most five
/// intervals, the spacing that wastes the least axis beyond the data (0–120 minutes gets 0, 30,
/// …, 120; 0–120.02 gets 0, 25, …, 125); the first tick is at or below lo, the last at or above hi.
package func roundTicks(from lo: Double, to hi: Double) -> [Double] {
    let magnitude = pow(10, floor(log10((hi - lo) / 5)))
    func ends(_ step: Double) -> (first: Double, last: Double) { (floor(lo / step + 1e-9), ceil(hi / step - 1e-9)) }
    func intervals(_ step: Double) -> Double { ends(step).last - ends(step).first }
    // 20 × magnitude always fits in five intervals; on a tie in axis length the smaller step wins.
    let step = [1, 2, 2.5, 3, 5, 10, 20].map { $0 * magnitude }.filter { intervals($0) <= 5 }
        .min { intervals($0) * $0 < intervals($1) * $1 * (1 - 1e-9) }!
    let (first, last) = ends(step)
    return stride(from: first, through: last, by: 1).map { $0 * step }
}

/// The start of a chart's SVG: the document, a white background, the title, the plot area's frame.
package func svgFrame(width: Double, height: Double, title: String, plot: (left: Double, top: Double, width: Double, height: Double)) -> String {
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    svg += "<text x=\"\(Int(width / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(escapeXML(title))</text>\n"
    svg += String(format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n",
                  plot.left, plot.top, plot.width, plot.height)
    return svg
}

/// Writes a finished SVG so that a reader never sees half a file.
package func writeSVG(_ svg: String, to path: String) throws {
    let tmp = path + ".tmp"
    do { try svg.write(toFile: tmp, atomically: false, encoding: .utf8) } catch {
        throw ToolError(description: "\(path): cannot write the chart (\(error.localizedDescription))")
    }
    if rename(tmp, path) != 0 { throw ToolError(description: "\(path): cannot write the chart") }
}

package func escapeXML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
}

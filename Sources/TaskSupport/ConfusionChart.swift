import Foundation

/// Draws a confusion matrix as an SVG heat map: one cell per (true, predicted) pair, shaded by
/// the share of the true class's clips (row-normalised, so rare classes are as readable as common
/// ones), with the count written in each non-empty cell and each class's accuracy at the right.
public func writeConfusionChart(_ confusion: [[Int]], labels: [String], title: String, to path: String) throws {
    let n = labels.count
    precondition(confusion.count == n && confusion.allSatisfy { $0.count == n }, "the matrix must be labels × labels")
    let cell = 44.0, left = 110.0, top = 60.0, right = 90.0, bottom = 110.0
    let width = left + cell * Double(n) + right, height = top + cell * Double(n) + bottom
    var svg = svgFrame(width: width, height: height, title: title, plot: (left, top, cell * Double(n), cell * Double(n)))
    for (i, row) in confusion.enumerated() {
        let total = max(row.reduce(0, +), 1)
        for (j, count) in row.enumerated() {
            let share = Double(count) / Double(total)
            // Correct predictions in blue, errors in red; white for none.
            let (r, g, b) = i == j ? (255 - 200 * share, 255 - 130 * share, 255.0) : (255.0, 255 - 200 * share, 255 - 200 * share)
            let (x, y) = (left + cell * Double(j), top + cell * Double(i))
            svg += String(format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"rgb(%.0f,%.0f,%.0f)\" stroke=\"#ddd\"/>\n",
                          x, y, cell, cell, r, g, b)
            if count > 0 {
                svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"%@\">%d</text>\n",
                              x + cell / 2, y + cell / 2 + 4, share > 0.6 ? "white" : "black", count)
            }
        }
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%@</text>\n", left - 6, top + cell * Double(i) + cell / 2 + 4,
                      escapeXML(labels[i]))
        let accuracy = row.reduce(0, +) == 0 ? "-" : String(format: "%.1f%%", 100 * Double(row[i]) / Double(total))
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">%@</text>\n", left + cell * Double(n) + 8, top + cell * Double(i) + cell / 2 + 4, accuracy)
    }
    for j in 0..<n {
        let (x, y) = (left + cell * Double(j) + cell / 2, top + cell * Double(n) + 10)
        svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\" transform=\"rotate(-45 %.0f %.0f)\">%@</text>\n",
                      x, y, x, y, escapeXML(labels[j]))
    }
    svg += String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">predicted</text>\n", left + cell * Double(n) / 2, height - 10)
    svg += String(format: "<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\">true class</text>\n",
                  top + cell * Double(n) / 2, top + cell * Double(n) / 2)
    svg += String(format: "<text x=\"%.0f\" y=\"%.0f\">accuracy</text>\n", left + cell * Double(n) + 8, top - 8)
    svg += "</svg>\n"
    try writeSVG(svg, to: path)
}

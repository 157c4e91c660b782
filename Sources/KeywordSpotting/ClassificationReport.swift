import Audio
import Foundation
import LEMModel
import TaskSupport

/// Accuracy, per-class accuracy and the confusion matrix (rows = true class, columns = prediction).
package struct ClassificationReport {
    package var labels: [String]
    package var confusion: [[Int]]
    package var loss: Double

    package var count: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }

    /// The report over every MPI rank's clips (each rank evaluated its own share): confusion
    /// counts and the loss are summed over the ranks.
    package func summed(over group: ProcessGroup) -> ClassificationReport {
        guard group.isDistributed else { return self }
        let C = confusion.count
        var values = confusion.flatMap { $0.map(Double.init) } + [loss * Double(count)]
        group.sum(&values)
        let total = values[0..<C * C].reduce(0, +)
        return ClassificationReport(labels: labels, confusion: (0..<C).map { r in (0..<C).map { Int(values[r * C + $0]) } },
                                    loss: values[C * C] / max(total, 1))
    }
    package var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }
    package var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }
    package func classAccuracy(_ c: Int) -> Double? {
        let n = confusion[c].reduce(0, +)
        return n == 0 ? nil : Double(confusion[c][c]) / Double(n)
    }

    /// The matrix as aligned text, TF speech_commands style, with per-class accuracy.
    package var table: String {
        let names = labels.map { String($0.prefix(9)) }
        var out = "true \\ predicted " + names.map { $0.padding(toLength: 9, withPad: " ", startingAt: 0) }.joined(separator: " ") + "  accuracy\n"
        for (i, row) in confusion.enumerated() {
            out += names[i].padding(toLength: 16, withPad: " ", startingAt: 0) + " "
            out += row.map { String($0).leftPadded(9) }.joined(separator: " ")
            out += classAccuracy(i).map { String(format: "  %6.2f%%", 100 * $0) } ?? "       -"
            out += "\n"
        }
        return out
    }
}

extension String {
    package func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

import Foundation

/// TensorFlow's `RecognizeCommands` exactly (tensorflow/examples/speech_commands/
/// recognize_commands.py), for reproducing `test_streaming_accuracy.py`: the results of the last
/// `averageMs` (inclusive) are averaged; nothing is reported until there are at least
/// `minimumCount` of them spanning at least a quarter of that window; the top label — any label,
/// `_silence_` and `_unknown_` included — is a new command when its average is above
/// `threshold`, it is not the previous command, and the previous command was `_silence_` (or there
/// was none) or more than `suppressMs` have passed since it.
///
/// Our detector (`CommandRecognizer`) differs on purpose (only keywords fire; `_silence_` on top
/// clears the repeat memory at any score); this one is for TensorFlow's figures only.
package struct TensorFlowRecognizer {
    package let labels: [String]
    package let averageMs: Int, suppressMs: Int, minimumCount: Int
    package let threshold: Float
    private var recent: [(time: Int, scores: [Float])] = []
    private var previousLabel: String?
    private var previousTime: Int?

    package init(labels: [String], averageMs: Int = 500, threshold: Float = 0.7, suppressMs: Int = 500, minimumCount: Int = 4) {
        (self.labels, self.averageMs, self.threshold, self.suppressMs, self.minimumCount) = (labels, averageMs, threshold, suppressMs, minimumCount)
    }

    /// Feeds the results of the window that starts at `timeMs`; returns the label if it is a new command.
    package mutating func process(timeMs: Int, scores: [Float]) -> String? {
        recent.append((timeMs, scores))
        let limit = timeMs - averageMs
        while let first = recent.first, limit > first.time { recent.removeFirst() }
        guard recent.count >= minimumCount, Double(timeMs - recent[0].time) >= Double(averageMs) / 4 else { return nil }
        // The average as TensorFlow sums it (each result divided by the count, then added).
        var average = [Double](repeating: 0, count: scores.count)
        for r in recent { for c in average.indices { average[c] += Double(r.scores[c]) / Double(recent.count) } }
        // Python's stable sort, descending: the first of equal scores wins.
        var top = 0
        for c in average.indices where average[c] > average[top] { top = c }
        let label = labels[top]
        let sinceLast = previousLabel == "_silence_" || previousTime == nil ? Int.max : timeMs - previousTime!
        guard average[top] > Double(threshold), label != previousLabel, sinceLast > suppressMs else { return nil }
        (previousLabel, previousTime) = (label, timeMs)
        return label
    }
}

/// TensorFlow's streaming accuracy (`accuracy_utils.py`, `StreamingAccuracyStats`), counted as it
/// counts: ground truth is every word of the stream (keywords and `_unknown_` words) at its clip's
/// start; a found word is every new command but `_silence_`, at its window's start. For each
/// found word, in order, the first ground-truth word within ± `toleranceMs` is taken: none → a
/// *false positive*; same label and not taken before → *correct*; otherwise (another label, or a
/// word an earlier command took) → *wrong*. Each rate is a share of the ground-truth words;
/// *matched* = correct + wrong.
package struct TensorFlowStreamingAccuracy: Equatable {
    package var groundTruth = 0, correct = 0, wrong = 0, falsePositives = 0

    package init(found: [(label: String, timeMs: Int)], truth: [(label: String, timeMs: Int)], toleranceMs: Int) {
        let words = truth.enumerated().sorted { ($0.element.timeMs, $0.offset) < ($1.element.timeMs, $1.offset) }.map(\.element)
        groundTruth = words.count
        var taken: [Int] = []   // times of the words matched so far (TensorFlow keys them by time)
        for f in found where f.label != "_silence_" {
            guard let word = words.first(where: { f.timeMs - toleranceMs <= $0.timeMs && $0.timeMs <= f.timeMs + toleranceMs }) else {
                falsePositives += 1
                continue
            }
            if word.label == f.label && !taken.contains(word.timeMs) { correct += 1 } else { wrong += 1 }
            taken.append(word.timeMs)
        }
    }

    package var matched: Int { correct + wrong }
    private func rate(_ n: Int) -> Double { groundTruth == 0 ? 0 : Double(n) / Double(groundTruth) }
    package var matchedRate: Double { rate(matched) }
    package var correctRate: Double { rate(correct) }
    package var wrongRate: Double { rate(wrong) }
    package var falsePositiveRate: Double { rate(falsePositives) }
}

import Audio
import Foundation

/// One word of a labelled stream's ground truth (`kws make-stream`'s CSV): label and clip span in ms.
package struct TruthWord: Equatable {
    package var label: String
    package var startMs: Double
    package var endMs: Double
}

/// Reads a ground-truth CSV: a header line, then `label,start_ms,end_ms[,…]` per word.
package func readTruth(path: String) throws -> [TruthWord] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw KWSStreamError("\(path): cannot read the labels (\(error.localizedDescription))")
    }
    var words: [TruthWord] = []
    for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if fields.allSatisfy(\.isEmpty) { continue }
        if number == 0 && fields.first == "label" { continue }
        guard fields.count >= 3, !fields[0].isEmpty, let start = Double(fields[1]), let end = Double(fields[2]),
              start.isFinite, end.isFinite, start >= 0, end >= start else {
            throw KWSStreamError("\(path):\(number + 1): expected label,start_ms,end_ms with 0 ≤ start ≤ end, got \"\(line)\"")
        }
        words.append(TruthWord(label: fields[0], startMs: start, endMs: end))
    }
    guard !words.isEmpty else { throw KWSStreamError("\(path): no labelled words") }
    return words.sorted { $0.startMs < $1.startMs }
}

package struct KWSStreamError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Our streaming figures of a list of detections against the ground truth (docs/STREAMING.md).
///
/// A detection at time t matches the ground-truth word whose span [start, end + tolerance)
/// contains t (the detection is reported at the end of the 1 s window that fired, so a word is
/// found between its start and a little after its clip ends); each word matches at most one
/// detection, the first. Each detection is then
/// - a *hit*: the word is the detection's keyword;
/// - a *confusion*: the word is another keyword;
/// - an *other false alarm*: it matches no word, a word already matched, or an unknown word;
/// and, per keyword and overall: miss rate = keyword words without a hit / keyword words, false
/// alarms per hour = (confusions + other false alarms) / hours of audio. (TensorFlow's rates,
/// counted differently, are `TensorFlowStreamingAccuracy`'s.)
package struct StreamingMetrics {
    package var keywords: [String]
    package var words: Int = 0, keywordWords = 0
    package var hits = 0, confusions = 0, otherFalseAlarms = 0
    package var missesPerKeyword: [String: Int] = [:], occurrences: [String: Int] = [:], falseAlarmsPerKeyword: [String: Int] = [:]
    package var hours: Double
    /// The false positives that fired where no keyword was spoken (on noise or an unknown word;
    /// not duplicates of a keyword already found): what a hard-negative pass trains on.
    package var falseAlarmsWithoutKeyword: [Detection] = []

    package init(detections: [Detection], truth: [TruthWord], keywords: [String], durationSeconds: Double, toleranceMs: Double = 750) {
        self.keywords = keywords
        hours = durationSeconds / 3600
        let keywordSet = Set(keywords)
        words = truth.count
        var used = [Bool](repeating: false, count: truth.count)
        var found = [Bool](repeating: false, count: truth.count)
        for w in truth where keywordSet.contains(w.label) {
            keywordWords += 1
            occurrences[w.label, default: 0] += 1
        }
        for d in detections {
            let t = d.time * 1000
            let nearKeyword = truth.contains { keywordSet.contains($0.label) && $0.startMs <= t && t < $0.endMs + toleranceMs }
            if let i = truth.indices.first(where: { !used[$0] && truth[$0].startMs <= t && t < truth[$0].endMs + toleranceMs }) {
                used[i] = true
                if truth[i].label == d.label { hits += 1; found[i] = true; continue }
                if keywordSet.contains(truth[i].label) { confusions += 1 } else {
                    otherFalseAlarms += 1
                    if !nearKeyword { falseAlarmsWithoutKeyword.append(d) }
                }
            } else {
                otherFalseAlarms += 1
                if !nearKeyword { falseAlarmsWithoutKeyword.append(d) }
            }
            falseAlarmsPerKeyword[d.label, default: 0] += 1
        }
        for (i, w) in truth.enumerated() where keywordSet.contains(w.label) && !found[i] { missesPerKeyword[w.label, default: 0] += 1 }
    }

    package var misses: Int { missesPerKeyword.values.reduce(0, +) }
    package var missRate: Double { keywordWords == 0 ? 0 : Double(misses) / Double(keywordWords) }
    package var falseAlarms: Int { confusions + otherFalseAlarms }
    package var falseAlarmsPerHour: Double { Double(falseAlarms) / max(hours, 1e-12) }
    package func missRate(_ keyword: String) -> Double? { occurrences[keyword].map { Double(missesPerKeyword[keyword] ?? 0) / Double($0) } }
    package func falseAlarmsPerHour(_ keyword: String) -> Double { Double(falseAlarmsPerKeyword[keyword] ?? 0) / max(hours, 1e-12) }
}

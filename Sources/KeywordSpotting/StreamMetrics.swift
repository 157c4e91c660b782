import Audio
import Foundation

/// One word of a labelled stream's ground truth (`kws make-stream`'s CSV): label and clip span in ms.
public struct TruthWord: Equatable, Sendable {
    public var label: String
    public var startMs: Double
    public var endMs: Double
    /// The recording the word came from (the CSV's fourth column, when there is one).
    public var clip: String?
    /// When the speech in the clip ends (`speechEndMs(ofClip:)`), in stream ms: latencies count
    /// from here, since a recording may end in silence. Nil: unknown (the clip's end is used).
    public var speechEndMs: Double?
    public init(label: String, startMs: Double, endMs: Double, clip: String? = nil) {
        (self.label, self.startMs, self.endMs, self.clip) = (label, startMs, endMs, clip)
    }
}

/// Where the speech of a recording ends, in ms from its start: the end of its last 10 ms frame
/// whose RMS level is within 30 dB of its loudest frame's (nil if it cannot be read). Trailing
/// silence and room tone are left out; a soft final consonant 30 dB under the peak is too.
package func speechEndMs(ofClip path: String) -> Double? {
    guard let clip = try? readAudio(path: path), clip.sampleRate > 0 else { return nil }
    let frame = max(1, clip.sampleRate / 100)
    let levels = stride(from: 0, to: clip.samples.count, by: frame).map { start -> Float in
        let part = clip.samples[start..<min(start + frame, clip.samples.count)]
        return (part.reduce(0) { $0 + $1 * $1 } / Float(part.count)).squareRoot()
    }
    guard let loudest = levels.max(), loudest > 0, let last = levels.lastIndex(where: { $0 >= loudest * 0.0316 }) else { return nil }
    return Double(min((last + 1) * frame, clip.samples.count)) * 1000 / Double(clip.sampleRate)
}

/// Reads a ground-truth CSV: a header line, then `label,start_ms,end_ms[,…]` per word.
package func readTruth(path: String) throws -> [TruthWord] {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
        throw KWSStreamError("\(path): cannot read the labels (\(error.localizedDescription))")
    }
    return try parseTruth(text, source: path)
}

/// The words of a ground-truth CSV's text (errors name `source` and the line), sorted by start.
public func parseTruth(_ text: String, source: String) throws -> [TruthWord] {
    var words: [TruthWord] = []
    for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if fields.allSatisfy(\.isEmpty) { continue }
        if number == 0 && fields.first == "label" { continue }
        guard fields.count >= 3, !fields[0].isEmpty, let start = Double(fields[1]), let end = Double(fields[2]),
              start.isFinite, end.isFinite, start >= 0, end >= start else {
            throw KWSStreamError("\(source):\(number + 1): expected label,start_ms,end_ms with 0 ≤ start ≤ end, got \"\(line)\"")
        }
        words.append(TruthWord(label: fields[0], startMs: start, endMs: end, clip: fields.count >= 4 && !fields[3].isEmpty ? fields[3] : nil))
    }
    guard !words.isEmpty else { throw KWSStreamError("\(source): no labelled words") }
    return words.sorted { $0.startMs < $1.startMs }
}

public struct KWSStreamError: Error, CustomStringConvertible {
    public let description: String
    package init(_ description: String) { self.description = description }
}

/// The streaming figures of a list of detections against the ground truth (docs/STREAMING.md).
///
/// With `.lem` scoring, a detection at time t matches the ground-truth word whose span
/// [start, end + tolerance) contains t (the detection is reported at the end of the 1 s window
/// that fired, so a word is found between its start and a little after its clip ends); each
/// word matches at most one detection, the first. Each detection is then
/// - a *hit*: the word is the detection's keyword;
/// - a *confusion*: the word is another keyword;
/// - an *other false alarm*: it matches no word, a word already matched, or an unknown word.
/// With `.picovoice` scoring (Picovoice's benchmark), the tolerance is 0.5 s, a detection of a
/// keyword inside that keyword's span finds it (once; later firings inside the span are
/// `repeats`, not false alarms) and every other firing is a false alarm.
/// Per keyword and overall: miss rate = keyword words without a hit / keyword words, false
/// alarms per hour = (confusions + other false alarms) / hours of audio; each false alarm is
/// attributed to a `FalseAlarmSource`. (TensorFlow's rates, counted differently, are
/// `TensorFlowStreamingAccuracy`'s.)
package struct StreamingMetrics {
    package var keywords: [String]
    package var scoring: StreamScoring
    package var words: Int = 0, keywordWords = 0
    package var hits = 0, confusions = 0, otherFalseAlarms = 0
    /// Picovoice scoring: firings inside a keyword's span after it was found (not false alarms).
    package var repeats = 0
    package var missesPerKeyword: [String: Int] = [:], occurrences: [String: Int] = [:], falseAlarmsPerKeyword: [String: Int] = [:]
    package var falseAlarmsBySource: [FalseAlarmSource: Int] = [:]
    package var hours: Double
    /// The false positives that fired where no keyword was spoken (on noise or an unknown word;
    /// not duplicates of a keyword already found): what a hard-negative pass trains on.
    package var falseAlarmsWithoutKeyword: [Detection] = []
    /// For every keyword found: when it fired, in ms after the keyword's speech ended
    /// (`TruthWord.speechEndMs`, else the end of its clip; negative: before).
    package var latenciesMs: [Double] = []

    package init(detections: [Detection], truth: [TruthWord], keywords: [String], durationSeconds: Double, toleranceMs: Double = 750,
                 scoring: StreamScoring = .lem) {
        self.keywords = keywords
        self.scoring = scoring
        hours = durationSeconds / 3600
        let keywordSet = Set(keywords)
        let tolerance = scoring == .picovoice ? StreamScoring.picovoiceToleranceMs : toleranceMs
        words = truth.count
        var used = [Bool](repeating: false, count: truth.count)
        var found = [Bool](repeating: false, count: truth.count)
        for w in truth where keywordSet.contains(w.label) {
            keywordWords += 1
            occurrences[w.label, default: 0] += 1
        }
        // The truth is sorted by start; spans may overlap (a word's tolerance reaches into the next).
        let latestEnd = truth.reduce(into: [Double]()) { $0.append(max($0.last ?? -.infinity, $1.endMs + tolerance)) }
        func spans(_ t: Double) -> [Int] {
            var i = truth.partitionIndex { $0.startMs > t } - 1, out: [Int] = []
            while i >= 0 && latestEnd[i] > t {
                if t < truth[i].endMs + tolerance { out.append(i) }
                i -= 1
            }
            return out.reversed()
        }
        for d in detections {
            let t = d.time * 1000
            let containing = spans(t)
            let nearKeyword = containing.contains { keywordSet.contains(truth[$0].label) }
            var source: FalseAlarmSource
            switch scoring {
            case .lem:
                if let i = containing.first(where: { !used[$0] }) {
                    used[i] = true
                    if truth[i].label == d.label { hits += 1; found[i] = true; latenciesMs.append(t - (truth[i].speechEndMs ?? truth[i].endMs)); continue }
                    if keywordSet.contains(truth[i].label) { confusions += 1; source = .otherKeyword } else { otherFalseAlarms += 1; source = .otherSpeech }
                } else {
                    otherFalseAlarms += 1
                    source = containing.contains { truth[$0].label == d.label } ? .repeatedKeyword
                        : nearKeyword ? .otherKeyword : containing.isEmpty ? .noise : .otherSpeech
                }
            case .picovoice:
                let own = containing.filter { truth[$0].label == d.label }
                if let i = own.first(where: { !found[$0] }) { hits += 1; found[i] = true; latenciesMs.append(t - (truth[i].speechEndMs ?? truth[i].endMs)); continue }
                if !own.isEmpty { repeats += 1; continue }
                if nearKeyword { confusions += 1; source = .otherKeyword } else {
                    otherFalseAlarms += 1
                    source = containing.isEmpty ? .noise : .otherSpeech
                }
            }
            if (source == .noise || source == .otherSpeech) && !nearKeyword { falseAlarmsWithoutKeyword.append(d) }
            falseAlarmsBySource[source, default: 0] += 1
            falseAlarmsPerKeyword[d.label, default: 0] += 1
        }
        for (i, w) in truth.enumerated() where keywordSet.contains(w.label) && !found[i] { missesPerKeyword[w.label, default: 0] += 1 }
    }

    package var misses: Int { missesPerKeyword.values.reduce(0, +) }
    /// The median and 90th percentile of `latenciesMs` (nearest rank), nil when nothing was found.
    package var latency: (medianMs: Double, p90Ms: Double)? {
        guard !latenciesMs.isEmpty else { return nil }
        let sorted = latenciesMs.sorted()
        func rank(_ q: Double) -> Double { sorted[max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)] }
        return (rank(0.5), rank(0.9))
    }
    package var missRate: Double { keywordWords == 0 ? 0 : Double(misses) / Double(keywordWords) }
    package var falseAlarms: Int { confusions + otherFalseAlarms }
    package var falseAlarmsPerHour: Double { Double(falseAlarms) / max(hours, 1e-12) }
    package func missRate(_ keyword: String) -> Double? { occurrences[keyword].map { Double(missesPerKeyword[keyword] ?? 0) / Double($0) } }
    package func falseAlarmsPerHour(_ keyword: String) -> Double { Double(falseAlarmsPerKeyword[keyword] ?? 0) / max(hours, 1e-12) }
}

extension Array {
    /// The first index whose element satisfies `belongsAfter`, for an array already partitioned by it.
    fileprivate func partitionIndex(where belongsAfter: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let mid = (low + high) / 2
            if belongsAfter(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
/// How detections are scored against the ground truth.
package enum StreamScoring: String, CaseIterable, Sendable {
    /// Ours (docs/STREAMING.md): a detection matches a word between its start and `toleranceMs`
    /// after its clip ends; each word matches one detection; a second firing on a word is a false alarm.
    case lem
    /// Picovoice's wake-word benchmark (benchmark.py): a detection between a keyword's start and
    /// 0.5 s after its end finds it; every firing outside such a span is a false alarm; further
    /// firings inside a span already found are neither (Picovoice counts them as detections).
    case picovoice

    /// Picovoice's span after each keyword recording (mixer.py: end + 0.5 s).
    package static let picovoiceToleranceMs = 500.0
}

/// Where a false alarm fired, for telling a model's weak spots apart.
package enum FalseAlarmSource: String, CaseIterable, Sendable {
    /// Outside every word of the ground truth: on noise (or silence).
    case noise
    /// On a word that is not a keyword (other speech).
    case otherSpeech = "other_speech"
    /// On another keyword (a confusion).
    case otherKeyword = "other_keyword"
    /// A second firing on a keyword already found (ours only; Picovoice's scoring ignores it).
    case repeatedKeyword = "repeat"
}

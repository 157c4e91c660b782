// Words that sound like a wake word: neighbours in the CMU Pronouncing Dictionary by phoneme
// edit distance (the negatives a detector must learn to refuse: "jarvis" → "service", "harvest").

import Foundation

/// The CMU Pronouncing Dictionary: lower-case word → phonemes (stress removed).
public struct PronouncingDictionary: Sendable {
    public var phonemes: [String: [String]] = [:]

    /// Where Debian's `festlex-cmu` puts it (Festival's format: `("alexa" nil (((ax) 0) ((l eh k) 1) ((s ax) 0)))`).
    public static let debianPath = "/usr/share/festival/dicts/cmu/cmudict-0.4.out"

    /// Reads Festival's format or the plain CMUdict one (`ALEXA  AH0 L EH1 K S AH0`); words with
    /// anything but letters and apostrophes are skipped, alternative pronunciations keep the first.
    public init(path: String = debianPath) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ToolFailure("\(path): cannot read the pronouncing dictionary (apt-get install festlex-cmu)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), source: path)
    }

    /// The dictionary in `text` (errors name `source`).
    public init(text: String, source: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("(\"") {
                guard let close = line.dropFirst(2).firstIndex(of: "\"") else { continue }
                let word = String(line[line.index(line.startIndex, offsetBy: 2)..<close])
                let rest = line[line.index(after: close)...].replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ")
                let phones = rest.split(separator: " ").dropFirst().filter { !$0.allSatisfy(\.isNumber) }.map(String.init)   // "nil", then phones and stress digits
                add(word, phones)
            } else if let first = line.first, first.isLetter {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                guard f.count > 1 else { continue }
                add(f[0].lowercased(), f.dropFirst().map { $0.filter(\.isLetter).lowercased() })
            }
        }
        guard !phonemes.isEmpty else { throw ToolFailure("\(source): no pronunciations found (expected CMUdict in Festival's or the plain format)") }
    }

    private mutating func add(_ word: String, _ phones: [String]) {
        guard !phones.isEmpty, word.allSatisfy({ $0.isLetter || $0 == "'" }), phonemes[word] == nil else { return }
        phonemes[word] = phones
    }

    /// The phonemes of a phrase (its words' joined), or nil with the words the dictionary lacks.
    public func pronounce(_ phrase: String) -> (phones: [String]?, unknown: [String]) {
        let words = phrase.lowercased().split(whereSeparator: { $0 == " " || $0 == "_" || $0 == "-" }).map(String.init)
        let unknown = words.filter { phonemes[$0] == nil }
        return unknown.isEmpty ? (words.flatMap { phonemes[$0]! }, []) : (nil, unknown)
    }

    /// The words nearest `phones` by phoneme edit distance, 1 … `maxDistance` (0 would be a
    /// homophone: a positive, not a negative), nearest first, then alphabetically.
    public func neighbours(of phones: [String], maxDistance: Int = 2, excluding: Set<String> = []) -> [(word: String, distance: Int)] {
        var out: [(word: String, distance: Int)] = []
        for (word, p) in phonemes where !excluding.contains(word) && abs(p.count - phones.count) <= maxDistance {
            let d = editDistance(p, phones, limit: maxDistance)
            if d >= 1 && d <= maxDistance { out.append((word, d)) }
        }
        return out.sorted { ($0.distance, $0.word) < ($1.distance, $1.word) }
    }
}

/// Levenshtein distance between two sequences (insertions, deletions, substitutions all 1);
/// anything above `limit` is reported as `limit + 1`.
package func editDistance<T: Equatable>(_ a: [T], _ b: [T], limit: Int = .max) -> Int {
    if a.isEmpty || b.isEmpty { return min(max(a.count, b.count), limit == .max ? .max : limit + 1) }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        var rowMin = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            rowMin = min(rowMin, current[j])
        }
        if limit != .max && rowMin > limit { return limit + 1 }
        swap(&previous, &current)
    }
    return limit == .max ? previous[b.count] : min(previous[b.count], limit + 1)
}

/// The part of every background recording a use may take, by time: [start, end) as fractions of
/// the recording's length. Training and test streams take disjoint parts (docs/WAKEWORDS.md:
/// training `0:0.8`, test streams `0.8:1`), so that no test noise was heard in training.
public struct NoiseRange: Codable, Sendable, Equatable, CustomStringConvertible {
    public var start: Double
    public var end: Double

    /// The whole recording.
    public static let whole = NoiseRange(uncheckedStart: 0, end: 1)

    private init(uncheckedStart start: Double, end: Double) { (self.start, self.end) = (start, end) }

    /// Throws unless 0 ≤ start < end ≤ 1.
    public init(start: Double, end: Double) throws {
        guard start.isFinite, end.isFinite, start >= 0, end <= 1, start < end else {
            throw SpeechCommandsError("noise range \(start):\(end): need 0 ≤ start < end ≤ 1 (fractions of each recording)")
        }
        (self.start, self.end) = (start, end)
    }

    /// Reads `start:end` (e.g. `0:0.8`, `0.8:1`).
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]) else {
            throw SpeechCommandsError("noise range \"\(text)\": expected start:end as fractions of each recording, e.g. 0:0.8 or 0.8:1")
        }
        try self.init(start: a, end: b)
    }

    public var isWhole: Bool { start == 0 && end == 1 }

    /// The samples of `recording` in the range (at least one when the recording has any).
    public func cut(_ recording: [Float]) -> [Float] {
        let n = recording.count
        guard n > 0, !isWhole else { return recording }
        let a = min(n - 1, Int((start * Double(n)).rounded(.down)))
        let b = max(a + 1, min(n, Int((end * Double(n)).rounded(.down))))
        return Array(recording[a..<b])
    }

    public var description: String { "\(Self.format(start)):\(Self.format(end))" }
    private static func format(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}

// Extra negative training examples for a spotter that runs on streams (`kws train
// --stream-negatives`, `--hard-negatives`).
//
// A model trained on cut clips has only ever seen a word centred in its window. On a stream it
// also sees windows that hold half a word, the tail of an unknown word, or only noise, and it
// fires on them (issue 14 measured ~950 false alarms per hour). The field's remedies, as
// examples added to the training split and drawn afresh with every augmentation draw:
// - background windows: 1 s of the background recordings at a random offset (`_silence_`,
//   TensorFlow's generated silence, only more of it);
// - unknown words at any offset: an unknown-word clip shifted by up to ±½ s, so the window holds
//   any part of the word (`_unknown_`);
// - keywords mostly outside the window: a keyword clip shifted until only 10–50 % of its energy
//   stays inside (`_unknown_`: a keyword should fire when it has been said, not on its first
//   syllable);
// - hard negatives: 1 s clips the model fired on in a long recording without a keyword there
//   (`kws eval-stream --save-false-alarms DIR`), all `_unknown_`.

import Foundation
import Runtime

/// Where a clip's audio sits in the 1 s window the model sees.
public enum ClipPlacement: String, Sendable, Hashable, Codable {
    /// As recorded, with augmentation's small time shift (±100 ms).
    case asRecorded
    /// Anywhere: shifted uniformly in [−½, ½) of the window.
    case anyOffset
    /// Shifted until 10–50 % of its energy is inside the window (`mostlyOutsideShift`).
    case mostlyOutside
}

/// How many extra negatives the training split gets, as percentages of its keyword examples
/// (like TensorFlow's `--silence_percentage`), and an optional folder of hard negatives.
public struct StreamNegatives: Codable, Sendable, Equatable {
    /// Extra `_silence_` windows from the background recordings.
    public var backgroundPercentage: Double = 0
    /// Unknown-word clips at any offset, labelled `_unknown_`.
    public var unknownPercentage: Double = 0
    /// Keyword clips shifted mostly out of the window, labelled `_unknown_`.
    public var shiftedKeywordPercentage: Double = 0
    /// A folder whose audio files (any depth) are added as `_unknown_` training clips.
    public var hardNegatives: String?

    public init(backgroundPercentage: Double = 0, unknownPercentage: Double = 0, shiftedKeywordPercentage: Double = 0,
                hardNegatives: String? = nil) {
        (self.backgroundPercentage, self.unknownPercentage, self.shiftedKeywordPercentage, self.hardNegatives)
            = (backgroundPercentage, unknownPercentage, shiftedKeywordPercentage, hardNegatives)
    }

    /// `kws train --stream-negatives`: the mix measured best on speech_commands_dev's streams
    /// (docs/STREAMING.md).
    public static let recommended = StreamNegatives(backgroundPercentage: 20, unknownPercentage: 40, shiftedKeywordPercentage: 20)

    /// One line for help texts and logs.
    public var summary: String {
        String(format: "%g%% background windows, %g%% unknown words at any offset, %g%% keywords mostly outside the window",
               backgroundPercentage, unknownPercentage, shiftedKeywordPercentage) + (hardNegatives.map { ", hard negatives from \($0)" } ?? "")
    }

    /// True when nothing is added.
    public var isEmpty: Bool {
        backgroundPercentage == 0 && unknownPercentage == 0 && shiftedKeywordPercentage == 0 && hardNegatives == nil
    }

    public func validate() throws {
        for (name, value) in [("background", backgroundPercentage), ("unknown", unknownPercentage), ("shifted keyword", shiftedKeywordPercentage)] {
            guard value.isFinite, value >= 0, value <= 10_000 else {
                throw SpeechCommandsError("stream negatives: the \(name) percentage must be in 0…10000, got \(value)")
            }
        }
    }

    private func count(_ percentage: Double, of keywords: Int) -> Int { Int((Double(keywords) * percentage / 100).rounded(.up)) }

    /// Extra generated `_silence_` examples for a training split with `keywords` keyword clips.
    func backgroundWindowCount(keywords: Int) -> Int { count(backgroundPercentage, of: keywords) }

    /// The extra recorded-clip examples of a training split: unknown words at any offset (drawn
    /// from all of the split's unknown-word clips, not only those kept by the unknown
    /// percentage), shifted keywords, then the hard negatives sorted by path. Seeded: the same
    /// split gives the same list.
    func examples(keywords: [SpeechExample], unknowns: [SpeechExample], seed: UInt64) throws -> [SpeechExample] {
        var rng = RandomGenerator(seed: seed, stream: 0x5EED_0F_57)
        var out: [SpeechExample] = []
        func draw(_ pool: [SpeechExample], _ n: Int, _ placement: ClipPlacement) {
            guard !pool.isEmpty else { return }
            for _ in 0..<n {
                let e = pool[rng.below(pool.count)]
                out.append(SpeechExample(path: e.path, relativePath: e.relativePath, word: e.word, label: SpeechCommands.unknownLabel,
                                         placement: placement))
            }
        }
        draw(unknowns, count(unknownPercentage, of: keywords.count), .anyOffset)
        draw(keywords, count(shiftedKeywordPercentage, of: keywords.count), .mostlyOutside)
        if let folder = hardNegatives {
            out += try Self.hardNegativeFiles(in: folder).map {
                SpeechExample(path: $0, relativePath: $0, word: "_hard_negative_", label: SpeechCommands.unknownLabel)
            }
        }
        return out
    }

    /// Every audio file under `folder` (recursively, sorted). Throws when the folder is missing
    /// or holds no audio.
    static func hardNegativeFiles(in folder: String) throws -> [String] {
        try audioFiles(under: folder, purpose: "hard negatives")
    }
}

/// A shift (in samples; > 0 delays the clip) that leaves a fraction f ~ U(0.1, 0.5) of the
/// clip's energy inside the `length`-sample window, towards the start or the end at random.
/// Searched on a 10 ms grid; a silent clip gets a shift of ¾ of the window.
func mostlyOutsideShift(_ clip: [Float], length: Int, rng: inout RandomGenerator) -> Int {
    let n = min(clip.count, length)
    var cumulative = [Double](repeating: 0, count: n + 1)   // energy of clip[0..<i]
    for i in 0..<n { cumulative[i + 1] = cumulative[i] + Double(clip[i] * clip[i]) }
    let total = cumulative[n]
    let fraction = Double(rng.uniform(0.1, 0.5))
    let delay = rng.below(2) == 0
    guard total > 0 else { return (delay ? 1 : -1) * length * 3 / 4 }
    let grid = max(1, length / 100)
    var shift = 0
    while shift < length {
        // Delayed by s: clip[0 ..< n−s] stays inside; advanced by s: clip[s ..< n].
        let inside = delay ? cumulative[max(0, n - shift)] : total - cumulative[min(n, shift)]
        if inside <= fraction * total { break }
        shift += grid
    }
    return delay ? shift : -shift
}

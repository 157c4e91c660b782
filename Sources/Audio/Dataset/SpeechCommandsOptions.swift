// What a Speech Commands folder is read as: its splits, the options that shape them, one
// example, the noise source, and the dataset's error.

import Foundation
import Runtime
import Synchronization

/// The three splits of a Speech Commands root.
public enum DatasetSplit: String, Codable, Sendable, CaseIterable {
    /// Everything not named in a list file.
    case training
    /// Files named in `validation_list.txt`.
    case validation
    /// Files named in `testing_list.txt`.
    case testing

    /// The list file that names this split's files (nil for training).
    public var listFileName: String? {
        switch self {
        case .training: return nil
        case .validation: return "validation_list.txt"
        case .testing: return "testing_list.txt"
        }
    }
}

/// How a Speech Commands root is turned into splits (TF speech_commands `input_data.py`
/// `prepare_data_index` semantics; every field goes into checkpoints via Codable).
public struct SpeechCommandsOptions: Codable, Sendable, Equatable {
    /// `_silence_` examples to generate per split, as a percentage of the split's keyword
    /// examples (TF `--silence_percentage 10`; rounded up). Generated only for splits that have no
    /// `_silence_` files of their own.
    public var silencePercentage: Double
    /// `_unknown_` examples to keep per split, as a percentage of the split's keyword examples
    /// (TF `--unknown_percentage 10`), drawn at random (seeded) from the clips of non-keyword word
    /// folders; nil keeps them all. Clips in a folder already named `_unknown_` are always kept
    /// (such folders are curated selections, e.g. the canonical test set).
    public var unknownPercentage: Double?
    /// Also generate silence in validation and testing (TF does; LEM's loader does not).
    public var silenceInEvaluationSplits: Bool
    /// Seed for unknown subsampling, generated silence and augmentation (TF's RANDOM_SEED).
    public var seed: UInt64
    /// Sample rate clips are converted to.
    public var sampleRate: Int
    /// Samples per clip (clips are padded with zeros or cut).
    public var clipSamples: Int
    /// For a folder without `validation_list.txt` and `testing_list.txt`: the percentages of
    /// TensorFlow's `which_set` hash split (`speechCommandsSplit`; TF's defaults 10 and 10).
    public var validationPercentage: Double
    public var testingPercentage: Double
    /// Extra negative training examples for streaming use (none by default).
    public var streamNegatives: StreamNegatives
    /// The part of each `_background_noise_` recording augmentation and generated silence take
    /// (the whole by default; `0:0.8` leaves the rest for test streams, `kws make-stream --noise-range 0.8:1`).
    public var noiseRange: NoiseRange
    /// The keyword classes, each a word folder (nil: Google12's ten, `yes` … `go`); every other
    /// word folder is `_unknown_`. A wake-word model has one (`["jarvis"]`).
    public var keywords: [String]?

    /// The class names in label order: `_silence_`, `_unknown_`, then the keywords.
    public var labels: [String] { Array(SpeechCommands.google12Labels.prefix(2)) + (keywords ?? Array(SpeechCommands.google12Labels.dropFirst(2))) }

    /// Throws for percentages outside 0…10000 (or NaN) and non-positive rates or lengths.
    public func validate() throws {
        for (name, value) in [("silencePercentage", silencePercentage), ("unknownPercentage", unknownPercentage ?? 0)] {
            guard value.isFinite, value >= 0, value <= 10_000 else {
                throw SpeechCommandsError("dataset options: \(name) must be in 0…10000, got \(value)")
            }
        }
        guard validationPercentage >= 0, testingPercentage >= 0, validationPercentage + testingPercentage <= 100 else {
            throw SpeechCommandsError("dataset options: the validation and testing percentages must be ≥ 0 and sum to at most 100, "
                                      + "got \(validationPercentage) and \(testingPercentage)")
        }
        guard sampleRate > 0, sampleRate <= 1_000_000, clipSamples > 0, clipSamples <= 100_000_000 else {
            throw SpeechCommandsError("dataset options: sampleRate and clipSamples must be positive, got \(sampleRate) Hz, \(clipSamples) samples")
        }
        try streamNegatives.validate()
        if let keywords {
            guard !keywords.isEmpty, Set(keywords).count == keywords.count,
                  keywords.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("_") && !$0.contains("/") && !$0.contains(",") }) else {
                throw SpeechCommandsError("dataset options: keywords must be distinct folder names, not starting with _ (got \(keywords.joined(separator: ", ")))")
            }
        }
    }

    public init(silencePercentage: Double = 10, unknownPercentage: Double? = 10, silenceInEvaluationSplits: Bool = true,
                seed: UInt64 = 59185, sampleRate: Int = 16000, clipSamples: Int = 16000,
                validationPercentage: Double = 10, testingPercentage: Double = 10, streamNegatives: StreamNegatives = StreamNegatives(),
                noiseRange: NoiseRange = .whole, keywords: [String]? = nil) {
        self.silencePercentage = silencePercentage
        self.unknownPercentage = unknownPercentage
        self.silenceInEvaluationSplits = silenceInEvaluationSplits
        self.seed = seed
        self.sampleRate = sampleRate
        self.clipSamples = clipSamples
        self.validationPercentage = validationPercentage
        self.testingPercentage = testingPercentage
        self.streamNegatives = streamNegatives
        self.noiseRange = noiseRange
        self.keywords = keywords
    }

    private enum CodingKeys: String, CodingKey {
        case silencePercentage, unknownPercentage, silenceInEvaluationSplits, seed, sampleRate, clipSamples
        case validationPercentage, testingPercentage, streamNegatives, noiseRange, keywords
    }

    /// Options added after the first checkpoints (the hash split's percentages, the stream
    /// negatives, the noise range, the keywords) keep `init`'s defaults when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(silencePercentage: try c.decode(Double.self, forKey: .silencePercentage),
                  unknownPercentage: try c.decodeIfPresent(Double.self, forKey: .unknownPercentage),
                  silenceInEvaluationSplits: try c.decode(Bool.self, forKey: .silenceInEvaluationSplits),
                  seed: try c.decode(UInt64.self, forKey: .seed), sampleRate: try c.decode(Int.self, forKey: .sampleRate),
                  clipSamples: try c.decode(Int.self, forKey: .clipSamples))
        validationPercentage = try c.decodeIfPresent(Double.self, forKey: .validationPercentage) ?? validationPercentage
        testingPercentage = try c.decodeIfPresent(Double.self, forKey: .testingPercentage) ?? testingPercentage
        streamNegatives = try c.decodeIfPresent(StreamNegatives.self, forKey: .streamNegatives) ?? streamNegatives
        noiseRange = try c.decodeIfPresent(NoiseRange.self, forKey: .noiseRange) ?? noiseRange
        keywords = try c.decodeIfPresent([String].self, forKey: .keywords)
    }
}

/// One example of a split.
public struct SpeechExample: Sendable, Equatable, Hashable {
    /// Absolute path of the clip; nil for a generated `_silence_` example.
    public let path: String?
    /// Path relative to the root as list files write it (`yes/0a7c2a8d_nohash_0.wav`); nil for generated silence.
    public let relativePath: String?
    /// The folder the clip is in (`bed`, `yes`, `_unknown_`, …); `_silence_` for generated silence.
    public let word: String
    /// Index into `SpeechCommands.google12Labels`.
    public let label: Int
    /// Where the clip's audio sits in the 1 s window (`StreamNegatives` adds the other kinds).
    public var placement: ClipPlacement = .asRecorded

    public init(path: String?, relativePath: String?, word: String, label: Int, placement: ClipPlacement = .asRecorded) {
        (self.path, self.relativePath, self.word, self.label, self.placement) = (path, relativePath, word, label, placement)
    }

    /// True for silence made from background noise rather than read from a file.
    public var isGeneratedSilence: Bool { path == nil }
}

/// Where background noise for augmentation and generated silence comes from.
public enum NoiseSource: Sendable, Equatable, CustomStringConvertible {
    /// The long recordings in `_background_noise_/` (TF's source).
    case backgroundNoiseFolder(files: Int, seconds: Double)
    /// No `_background_noise_/` folder: the training split's `_silence_` clips are the noise
    /// (e.g. `speech_commands_dev`, which has 1 s silence clips but no long recordings).
    case silenceClips(count: Int)
    /// No noise at all: background mixing is off and generated silence is all zeros.
    case none

    public var description: String {
        switch self {
        case let .backgroundNoiseFolder(files, seconds):
            return "_background_noise_/ (\(files) files, \(String(format: "%.1f", seconds)) s)"
        case let .silenceClips(count): return "the training split's \(count) _silence_ clips (no _background_noise_/ folder)"
        case .none: return "none (no _background_noise_/ folder and no training _silence_ clips)"
        }
    }
}

/// A problem with a dataset root: missing folders, list files naming missing files, unreadable
/// audio. `description` names the file (and line) concerned.
public struct SpeechCommandsError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

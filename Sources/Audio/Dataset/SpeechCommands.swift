// The Google Speech Commands dataset in its folder layout, mapped to the 12 Google12 classes.

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
    public var validationPercentage: Double = 10
    public var testingPercentage: Double = 10
    /// Extra negative training examples for streaming use (none by default).
    public var streamNegatives = StreamNegatives()

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
    }

    public init(silencePercentage: Double = 10, unknownPercentage: Double? = 10, silenceInEvaluationSplits: Bool = true,
                seed: UInt64 = 59185, sampleRate: Int = 16000, clipSamples: Int = 16000,
                validationPercentage: Double = 10, testingPercentage: Double = 10, streamNegatives: StreamNegatives = StreamNegatives()) {
        self.silencePercentage = silencePercentage
        self.unknownPercentage = unknownPercentage
        self.silenceInEvaluationSplits = silenceInEvaluationSplits
        self.seed = seed
        self.sampleRate = sampleRate
        self.clipSamples = clipSamples
        self.validationPercentage = validationPercentage
        self.testingPercentage = testingPercentage
        self.streamNegatives = streamNegatives
    }

    private enum CodingKeys: String, CodingKey {
        case silencePercentage, unknownPercentage, silenceInEvaluationSplits, seed, sampleRate, clipSamples
        case validationPercentage, testingPercentage, streamNegatives
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        silencePercentage = try c.decode(Double.self, forKey: .silencePercentage)
        unknownPercentage = try c.decodeIfPresent(Double.self, forKey: .unknownPercentage)
        silenceInEvaluationSplits = try c.decode(Bool.self, forKey: .silenceInEvaluationSplits)
        seed = try c.decode(UInt64.self, forKey: .seed)
        sampleRate = try c.decode(Int.self, forKey: .sampleRate)
        clipSamples = try c.decode(Int.self, forKey: .clipSamples)
        // Checkpoints written before the hash split existed: TensorFlow's defaults.
        validationPercentage = try c.decodeIfPresent(Double.self, forKey: .validationPercentage) ?? 10
        testingPercentage = try c.decodeIfPresent(Double.self, forKey: .testingPercentage) ?? 10
        streamNegatives = try c.decodeIfPresent(StreamNegatives.self, forKey: .streamNegatives) ?? StreamNegatives()
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

/// TF speech_commands-style data augmentation (`input_data.py` `get_data`, training mode).
public struct AugmentationSettings: Codable, Sendable, Equatable {
    /// Maximum time shift in samples (TF `--time_shift_ms 100` at 16 kHz); the shift is uniform
    /// in [−max, max) and the gap is filled with zeros.
    public var timeShiftSamples: Int
    /// Probability of mixing background noise into a non-silence clip (TF `--background_frequency 0.8`).
    public var backgroundFrequency: Double
    /// Background volume is uniform in [0, this) for non-silence clips (TF `--background_volume 0.1`).
    public var backgroundVolume: Double
    /// Generated silence: volume uniform in [0, this) (TF: U(0, 1)).
    public var silenceVolume: Double
    /// When set, noise is mixed at a speech-to-noise ratio drawn uniformly from this range (dB,
    /// the unshifted clip's RMS over the excerpt's, as `kws make-stream` measures a stream) instead of at
    /// volume U(0, `backgroundVolume`): training noise then spans the SNRs a stream has.
    public var backgroundSNRdB: ClosedRange<Double>? = nil

    public init(timeShiftSamples: Int = 1600, backgroundFrequency: Double = 0.8, backgroundVolume: Double = 0.1,
                silenceVolume: Double = 1) {
        self.timeShiftSamples = timeShiftSamples
        self.backgroundFrequency = backgroundFrequency
        self.backgroundVolume = backgroundVolume
        self.silenceVolume = silenceVolume
    }

    /// TF's defaults: ±100 ms shift, noise with probability 0.8 at U(0, 0.1), silence at U(0, 1).
    public static let tensorFlow = AugmentationSettings()

    /// Throws for a negative shift or a probability/volume that is negative, NaN or infinite.
    public func validate() throws {
        guard timeShiftSamples >= 0, timeShiftSamples <= 100_000_000 else {
            throw SpeechCommandsError("augmentation: timeShiftSamples must be ≥ 0, got \(timeShiftSamples)")
        }
        guard backgroundFrequency.isFinite, (0...1).contains(backgroundFrequency) else {
            throw SpeechCommandsError("augmentation: backgroundFrequency must be in 0…1, got \(backgroundFrequency)")
        }
        for (name, value) in [("backgroundVolume", backgroundVolume), ("silenceVolume", silenceVolume)] {
            guard value.isFinite, value >= 0 else { throw SpeechCommandsError("augmentation: \(name) must be ≥ 0, got \(value)") }
        }
        if let r = backgroundSNRdB, !(r.lowerBound.isFinite && r.upperBound.isFinite) {
            throw SpeechCommandsError("augmentation: the SNR range must be finite, got \(r)")
        }
    }
}

/// The features of a whole split, computed at once.
public struct SplitFeatures: Sendable {
    /// Which split.
    public let split: DatasetSplit
    /// Number of clips.
    public let count: Int
    /// Frames per clip.
    public let frames: Int
    /// Values per frame.
    public let featureCount: Int
    /// `[count, frames, featureCount]` row-major (each clip time-major).
    public var values: [Float]
    /// Label per clip (index into `SpeechCommands.google12Labels`).
    public let labels: [Int]

    public init(split: DatasetSplit, count: Int, frames: Int, featureCount: Int, values: [Float], labels: [Int]) {
        precondition(values.count == count * frames * featureCount && labels.count == count, "features do not match their shape")
        (self.split, self.count, self.frames, self.featureCount, self.values, self.labels) = (split, count, frames, featureCount, values, labels)
    }
}

/// A Speech Commands root (one folder per word; optional `validation_list.txt`,
/// `testing_list.txt`, `_background_noise_/`), split and mapped to the 12 Google12 classes.
///
/// Mapping: `yes no up down left right on off stop go` are classes; every other word folder is
/// `_unknown_`; folders named `_unknown_` / `_silence_` are taken as those classes. Splits: a
/// file named in `validation_list.txt` / `testing_list.txt` (paths relative to the root) is in
/// that split, everything else is training; a folder with neither list file is split by
/// TensorFlow's `which_set` hash of the speaker id (`speechCommandsSplit`), as `train.py` does. Per split, `_unknown_` clips from word folders are
/// subsampled and `_silence_` examples generated as `SpeechCommandsOptions` says. Everything is
/// deterministic given `options.seed`. Examples are sorted by path, generated silence last;
/// shuffling for training is the trainer's job.
///
/// Only the folder listing and the list files are read by `init` (plus the noise recordings);
/// clips are decoded by `loadAudio` / `features`, on all cores.
public final class SpeechCommands: @unchecked Sendable {
    /// Class names in label order: silence and unknown first, as TF's `prepare_words_list`.
    public static let google12Labels = ["_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
    /// Label of `_silence_`.
    public static let silenceLabel = 0
    /// Label of `_unknown_`.
    public static let unknownLabel = 1
    /// Audio file extensions scanned (case-insensitive): what libsndfile reads.
    public static let audioExtensions: Set<String> = ["wav", "wave", "flac", "ogg", "oga", "opus", "aif", "aiff", "aifc", "au", "snd", "caf", "w64", "rf64", "mp3"]

    /// The Google12 label of a word folder.
    public static func google12Label(forFolder folder: String) -> Int {
        google12Labels.firstIndex(of: folder) ?? unknownLabel
    }

    /// The root folder.
    public let root: String
    /// The options used to build the splits.
    public let options: SpeechCommandsOptions
    /// `google12Labels`.
    public let labels: [String] = SpeechCommands.google12Labels
    /// Word folders found (sorted), excluding `_background_noise_`.
    public let wordFolders: [String]
    /// Which list files were present.
    public let listFilesFound: [DatasetSplit]
    /// True when the folder has no list files and the splits come from `speechCommandsSplit`.
    public let splitByHash: Bool
    /// Where background noise comes from.
    public let noiseSource: NoiseSource

    private let splitExamples: [DatasetSplit: [SpeechExample]]
    /// Noise recordings at `options.sampleRate` (each at least one sample long).
    private let noise: [[Float]]
    /// The background recordings augmentation mixes in (`noiseSource` says which), at the
    /// dataset's sample rate.
    public var noiseRecordings: [[Float]] { noise }

    /// Scans `root` and builds the splits. Throws `SpeechCommandsError` (root missing or without
    /// class folders, a list line naming a missing file or a file in two lists, unreadable
    /// background noise).
    public init(root: String, options: SpeechCommandsOptions = .init()) throws {
        self.root = root
        self.options = options
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw SpeechCommandsError("\(root): no such directory")
        }
        guard isDirectory.boolValue else { throw SpeechCommandsError("\(root): not a directory") }
        try options.validate()

        // 1. Word folders and their audio files.
        func audioFiles(in folder: String) -> [String] {
            let names = (try? fm.contentsOfDirectory(atPath: root + "/" + folder)) ?? []
            return names.filter { name in
                guard !name.hasPrefix("."), let dot = name.lastIndex(of: ".") else { return false }
                guard Self.audioExtensions.contains(name[name.index(after: dot)...].lowercased()) else { return false }
                var isDir: ObjCBool = false
                return fm.fileExists(atPath: root + "/" + folder + "/" + name, isDirectory: &isDir) && !isDir.boolValue
            }.sorted()
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root).sorted() } catch {
            throw SpeechCommandsError("\(root): cannot list the directory (\(error.localizedDescription))")
        }
        var folders: [String] = []
        var allFiles: [String] = []  // relative paths, sorted by folder then name
        var hasBackgroundFolder = false
        var backgroundFiles: [String] = []
        for entry in entries where !entry.hasPrefix(".") {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: root + "/" + entry, isDirectory: &isDir), isDir.boolValue else { continue }
            let files = audioFiles(in: entry)
            if entry == "_background_noise_" {
                hasBackgroundFolder = true
                backgroundFiles = files.map { entry + "/" + $0 }
                continue
            }
            guard !files.isEmpty else { continue }
            folders.append(entry)
            allFiles += files.map { entry + "/" + $0 }
        }
        wordFolders = folders
        let keywordFolders = folders.filter { Self.google12Label(forFolder: $0) >= 2 }
        guard !keywordFolders.isEmpty else {
            let found = folders.isEmpty ? "no folders with audio files" : "only \(folders.prefix(8).joined(separator: ", "))\(folders.count > 8 ? ", …" : "")"
            throw SpeechCommandsError("\(root): no class folders: expected the Speech Commands layout, one folder per word "
                                      + "(yes/, no/, up/, down/, left/, right/, on/, off/, stop/, go/) holding audio files; found \(found)")
        }

        // 2. List files.
        let known = Set(allFiles)
        var assignment: [String: (split: DatasetSplit, line: Int)] = [:]
        var foundLists: [DatasetSplit] = []
        for split in [DatasetSplit.validation, .testing] {
            let listPath = root + "/" + split.listFileName!
            guard fm.fileExists(atPath: listPath) else { continue }
            foundLists.append(split)
            let text: String
            do { text = try String(contentsOfFile: listPath, encoding: .utf8) } catch {
                throw SpeechCommandsError("\(listPath): cannot read the list file (\(error.localizedDescription))")
            }
            for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {  // "\r\n" is one Character
                var line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
                if line.isEmpty { continue }
                if line.hasPrefix("./") { line.removeFirst(2) }
                let where_ = "\(listPath):\(number + 1)"
                guard known.contains(line) else {
                    if fm.fileExists(atPath: root + "/" + line) {
                        throw SpeechCommandsError("\(where_): \(line) is not an audio file in a word folder of \(root)")
                    }
                    throw SpeechCommandsError("\(where_): \(line) does not exist (no file \(root)/\(line))")
                }
                if let previous = assignment[line] {
                    if previous.split == split { continue }  // listed twice in the same file: harmless
                    throw SpeechCommandsError("\(where_): \(line) is also listed in \(previous.split.listFileName!) line \(previous.line); "
                                              + "a file can be in only one split")
                }
                assignment[line] = (split, number + 1)
            }
        }
        listFilesFound = foundLists
        // Without list files, TensorFlow's hash split by speaker (train.py's default).
        splitByHash = foundLists.isEmpty
        if splitByHash {
            for relative in allFiles {
                assignment[relative] = (speechCommandsSplit(path: relative, validationPercentage: options.validationPercentage,
                                                            testingPercentage: options.testingPercentage), 0)
            }
        }

        // 3. Examples per split, then unknown subsampling and silence generation.
        var perSplit: [DatasetSplit: [SpeechExample]] = [:]
        var unknownPool: [DatasetSplit: [SpeechExample]] = [:]
        for relative in allFiles {
            let folder = String(relative[..<relative.firstIndex(of: "/")!])
            let split = assignment[relative]?.split ?? .training
            let example = SpeechExample(path: root + "/" + relative, relativePath: relative, word: folder,
                                        label: Self.google12Label(forFolder: folder))
            if example.label == Self.unknownLabel && folder != "_unknown_" {
                unknownPool[split, default: []].append(example)
            } else {
                perSplit[split, default: []].append(example)
            }
        }
        for (index, split) in DatasetSplit.allCases.enumerated() {
            var examples = perSplit[split] ?? []
            let keywordCount = examples.filter { $0.label >= 2 }.count
            var pool = unknownPool[split] ?? []
            if let percentage = options.unknownPercentage {
                var rng = RandomGenerator(seed: options.seed, stream: 1000 + UInt64(index))
                rng.shuffle(&pool)
                pool = Array(pool.prefix(Int((Double(keywordCount) * percentage / 100).rounded(.up))))
            }
            examples += pool
            examples.sort { $0.relativePath! < $1.relativePath! }
            if split == .training {
                examples += try options.streamNegatives.examples(keywords: examples.filter { $0.label >= 2 }, unknowns: unknownPool[split] ?? [],
                                                                 seed: options.seed)
            }
            let hasSilenceFiles = examples.contains { $0.label == Self.silenceLabel && $0.placement == .asRecorded }
            var silenceCount = 0
            if !hasSilenceFiles && (split == .training || options.silenceInEvaluationSplits) && options.silencePercentage > 0 {
                silenceCount = Int((Double(keywordCount) * options.silencePercentage / 100).rounded(.up))
            }
            if split == .training { silenceCount += options.streamNegatives.backgroundWindowCount(keywords: keywordCount) }
            examples += Array(repeating: SpeechExample(path: nil, relativePath: nil, word: "_silence_", label: Self.silenceLabel),
                              count: silenceCount)
            perSplit[split] = examples
        }
        splitExamples = perSplit

        // 4. Noise: _background_noise_/ recordings, else the training split's _silence_ clips.
        var noise: [[Float]] = []
        if hasBackgroundFolder && !backgroundFiles.isEmpty {
            for relative in backgroundFiles {
                let path = root + "/" + relative
                do {
                    let clip = try readAudio(path: path)
                    noise.append(try clip.sampleRate == options.sampleRate ? clip.samples
                                 : resample(clip.samples, from: clip.sampleRate, to: options.sampleRate))
                } catch let error as AudioError {
                    throw SpeechCommandsError("background noise: \(path): \(error.problem)")
                }
            }
            noiseSource = .backgroundNoiseFolder(files: noise.count, seconds: Double(noise.reduce(0) { $0 + $1.count }) / Double(options.sampleRate))
        } else {
            let silenceFiles = (perSplit[.training] ?? []).filter { $0.label == Self.silenceLabel && !$0.isGeneratedSilence }
            noise = try Self.decode(silenceFiles, options: options)
            noiseSource = silenceFiles.isEmpty ? .none : .silenceClips(count: silenceFiles.count)
        }
        self.noise = noise.filter { !$0.isEmpty }
    }

    // MARK: - Queries

    /// The examples of a split (sorted by path, generated silence last).
    public func examples(_ split: DatasetSplit) -> [SpeechExample] { splitExamples[split] ?? [] }

    /// Number of examples per label in a split.
    public func labelCounts(_ split: DatasetSplit) -> [Int] {
        var counts = [Int](repeating: 0, count: labels.count)
        for e in examples(split) { counts[e.label] += 1 }
        return counts
    }

    /// A few lines describing the splits and the noise source, for tool output.
    public var summary: String {
        var lines = ["\(root): \(wordFolders.count) word folders; list files: "
                     + (splitByHash ? String(format: "none: split by TensorFlow's which_set hash of the speaker id (%g%% validation, %g%% testing)",
                                             options.validationPercentage, options.testingPercentage)
                                    : listFilesFound.map { $0.listFileName! }.joined(separator: ", "))]
        for split in DatasetSplit.allCases {
            let counts = labelCounts(split)
            let generated = examples(split).filter(\.isGeneratedSilence).count
            lines.append("  \(split.rawValue): \(examples(split).count) clips (" + zip(labels, counts).map { "\($0) \($1)" }.joined(separator: ", ")
                         + (generated > 0 ? "; \(generated) silence generated" : "") + ")")
        }
        lines.append("  background noise: \(noiseSource)")
        return lines.joined(separator: "\n")
    }

    // MARK: - Audio

    /// Decodes clips (resampled, padded/cut) on all cores; errors name the file.
    private static func decode(_ examples: [SpeechExample], options: SpeechCommandsOptions) throws -> [[Float]] {
        var clips = [[Float]](repeating: [], count: examples.count)
        let failures = Mutex<[(Int, String)]>([])
        clips.withUnsafeMutableBufferPointer { buffer in
            let out = SendablePointer(buffer.baseAddress!)
            forEachBlock(examples.count) { i in
                guard let path = examples[i].path else { return }
                do {
                    out.pointer[i] = try loadClip(path: path, sampleRate: options.sampleRate, length: options.clipSamples)
                } catch {
                    let text = "\(error)"
                    failures.withLock { $0.append((i, text)) }
                }
            }
        }
        try throwFailures(failures.withLock { $0 })
        return clips
    }

    private static func throwFailures(_ failures: [(Int, String)]) throws {
        guard !failures.isEmpty else { return }
        let sorted = failures.sorted { $0.0 < $1.0 }.map(\.1)
        if sorted.count == 1 { throw SpeechCommandsError(sorted[0]) }
        throw SpeechCommandsError("\(sorted.count) audio files could not be read:\n  " + sorted.prefix(10).joined(separator: "\n  ")
                                  + (sorted.count > 10 ? "\n  …" : ""))
    }

    /// Runs `body(i)` for i in 0..<count on all cores, in blocks of 16 handed out dynamically
    /// (file reading makes the cost per item uneven).
    private static func forEachBlock(_ count: Int, _ body: @Sendable (Int) -> Void) {
        let block = 16, blocks = (count + block - 1) / block
        guard blocks > 1 else { for i in 0..<count { body(i) }; return }
        DispatchQueue.concurrentPerform(iterations: blocks) { b in
            for i in (b * block)..<min(count, (b + 1) * block) { body(i) }
        }
    }

    /// The un-augmented samples of example `index` of `split` (`clipSamples` long): the file,
    /// resampled and padded/cut; for generated silence, a noise excerpt at a volume drawn from
    /// U(0, 1), both fixed per example by the seed (TF draws them anew at every evaluation; fixing
    /// them makes evaluation repeatable), or zeros when there is no noise.
    public func cleanSamples(_ split: DatasetSplit, index: Int) throws -> [Float] {
        let example = examples(split)[index]
        if let path = example.path {
            do { return try loadClip(path: path, sampleRate: options.sampleRate, length: options.clipSamples) } catch {
                throw SpeechCommandsError("\(error)")
            }
        }
        var rng = fixedSilenceGenerator(split, index: index)
        var out = [Float](repeating: 0, count: options.clipSamples)
        addNoise(into: &out, volume: rng.uniform(0, 1), rng: &rng)
        return out
    }

    private func fixedSilenceGenerator(_ split: DatasetSplit, index: Int) -> RandomGenerator {
        let splitIndex = UInt64(DatasetSplit.allCases.firstIndex(of: split)!)
        return RandomGenerator(seed: options.seed ^ 0x5115_E0CE, stream: splitIndex << 40 | UInt64(index))
    }

    /// Adds `volume ×` a random `clipSamples`-long excerpt of a random noise recording (shorter
    /// recordings are used whole, from the start). Does nothing without noise.
    private func addNoise(into samples: inout [Float], volume: Float, rng: inout RandomGenerator) {
        addNoise(into: &samples, rng: &rng) { _ in volume }
    }

    /// As above, with the volume chosen from the excerpt's RMS (over `clipSamples`).
    private func addNoise(into samples: inout [Float], rng: inout RandomGenerator, volume: (_ excerptRMS: Double) -> Float) {
        guard !noise.isEmpty else { return }
        let source = noise[rng.below(noise.count)]
        let length = options.clipSamples
        let offset = source.count > length ? rng.below(source.count - length) : 0
        let n = min(length, source.count - offset)
        var energy = 0.0
        for i in 0..<n { energy += Double(source[offset + i] * source[offset + i]) }
        let v = volume((energy / Double(length)).squareRoot())
        for i in 0..<n { samples[i] += v * source[offset + i] }
    }

    /// Decodes every clip of a split (resampled, padded/cut, generated silence included) on all
    /// cores: keep the result to re-augment every epoch without reading the files again
    /// (4 bytes × clipSamples per clip: 64 KB per 1 s clip, 211 MB for speech_commands_dev).
    /// If several files are unreadable the error lists them (first ten).
    /// `clips`: only these examples of the split (an MPI rank's share), in order.
    public func loadAudio(_ split: DatasetSplit, clips: Range<Int>? = nil) throws -> [[Float]] {
        let all = examples(split)
        let range = clips ?? all.indices
        let chosen = Array(all[range])
        var audio = try Self.decode(chosen, options: options)
        for (j, example) in chosen.enumerated() where example.isGeneratedSilence {
            audio[j] = try cleanSamples(split, index: range.lowerBound + j)
        }
        return audio
    }

    /// One augmented version of example `index` of `split`, as TF speech_commands' `get_data` makes it
    /// in training mode:
    /// - generated silence: the foreground is muted; noise at volume U(0, `silenceVolume`);
    /// - other clips (including `_silence_` files, which are real recordings and kept as such):
    ///   time shift by U[−shift, shift) samples with zero fill, then with probability
    ///   `backgroundFrequency` noise at volume U(0, `backgroundVolume`);
    /// - the sum is clamped to [−1, 1].
    /// Noise comes from `noiseSource` (the `_background_noise_` recordings, else the training
    /// `_silence_` clips); without noise only the time shift applies.
    ///
    /// - Parameter audio: the example's clean samples if already loaded (`loadAudio`); read from
    ///   the file otherwise.
    public func augmentedSamples(_ split: DatasetSplit, index: Int, rng: inout RandomGenerator,
                                 audio: [Float]? = nil, settings: AugmentationSettings = .tensorFlow) throws -> [Float] {
        try settings.validate()
        let example = examples(split)[index]
        let length = options.clipSamples
        var out = [Float](repeating: 0, count: length)
        if example.isGeneratedSilence {
            addNoise(into: &out, volume: rng.uniform(0, Float(settings.silenceVolume)), rng: &rng)
        } else {
            let clean = try audio ?? cleanSamples(split, index: index)
            let shift: Int
            switch example.placement {
            case .asRecorded:
                shift = settings.timeShiftSamples > 0 ? rng.below(2 * settings.timeShiftSamples) - settings.timeShiftSamples : 0
            case .anyOffset:
                shift = rng.below(length) - length / 2
            case .mostlyOutside:
                shift = mostlyOutsideShift(clean, length: length, rng: &rng)
            }
            // shift > 0 delays the clip (zeros in front); shift < 0 advances it (zeros at the end).
            let first = max(0, shift), end = min(length, clean.count + shift)
            if first < end { for i in first..<end { out[i] = clean[i - shift] } }
            if !noise.isEmpty && Double(rng.uniformFloat()) < settings.backgroundFrequency {
                if let snr = settings.backgroundSNRdB {
                    // The clip's level before any shift: a word mostly outside the window gets the
                    // noise a stream has around that word.
                    var energy = 0.0
                    for v in clean.prefix(length) { energy += Double(v * v) }
                    let speechRMS = (energy / Double(length)).squareRoot()
                    let db = Double(rng.uniform(Float(snr.lowerBound), Float(snr.upperBound)))
                    addNoise(into: &out, rng: &rng) { noiseRMS in noiseRMS > 0 ? Float(speechRMS / noiseRMS / exp(db / 20 * log(10))) : 0 }
                } else {
                    addNoise(into: &out, volume: rng.uniform(0, Float(settings.backgroundVolume)), rng: &rng)
                }
            }
        }
        for i in 0..<length { out[i] = min(1, max(-1, out[i])) }
        return out
    }

    /// The generator `features` uses for example `index` in `epoch`: independent of thread
    /// scheduling, so features are identical however the work is split.
    public func augmentationGenerator(index: Int, epoch: Int) -> RandomGenerator {
        RandomGenerator(seed: options.seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1), stream: UInt64(index))
    }

    /// Features of every clip of a split, computed at once on all cores.
    ///
    /// - Parameters:
    ///   - audio: the split's clips from `loadAudio` (recommended when features are computed more
    ///     than once); when nil, files are decoded on the fly (one pass, nothing kept).
    ///   - augmentation: nil for the clean clips (validation, testing, or training without
    ///     augmentation); otherwise each clip is augmented with `augmentationGenerator(index:epoch:)`.
    ///   - epoch: selects a fresh, reproducible augmentation draw. The kws trainer computes
    ///     training features once per run with epoch 0 by default; calling this again each epoch
    ///     with the cached `audio` re-augments (0.2 s MFCC / 0.6 s log-mel per 2,400 clips on 2 cores).
    ///   - clips: only these clips of the split (an MPI rank's share; `audio` then holds just
    ///     them); each is augmented exactly as in the whole split, so the shares put together in
    ///     order are the whole split's features.
    public func features(_ split: DatasetSplit, extractor: FeatureExtractor, audio: [[Float]]? = nil,
                         augmentation: AugmentationSettings? = nil, epoch: Int = 0, clips: Range<Int>? = nil) throws -> SplitFeatures {
        let s = extractor.settings
        guard s.sampleRate == options.sampleRate, s.clipSamples == options.clipSamples else {
            throw SpeechCommandsError("feature settings (\(s.sampleRate) Hz, \(s.clipSamples) samples) do not match the dataset's "
                                      + "(\(options.sampleRate) Hz, \(options.clipSamples) samples)")
        }
        try augmentation?.validate()
        let all = examples(split)
        let range = clips ?? all.indices
        precondition(range.lowerBound >= 0 && range.upperBound <= all.count, "clips outside the split")
        let examples = Array(all[range])
        if let audio, audio.count != examples.count {
            throw SpeechCommandsError("\(split.rawValue): \(audio.count) clips given for \(examples.count) examples")
        }
        let per = extractor.valuesPerClip
        let failures = Mutex<[(Int, String)]>([])
        let values = [Float](unsafeUninitializedCapacity: examples.count * per) { buffer, initialized in
            buffer.initialize(repeating: 0)
            initialized = examples.count * per
            guard !examples.isEmpty else { return }
            let out = SendablePointer(buffer.baseAddress!)
            Self.forEachBlock(examples.count) { j in
                let i = range.lowerBound + j   // the clip's index in the split: its augmentation draws
                do {
                    var samples: [Float]
                    if let augmentation {
                        var rng = self.augmentationGenerator(index: i, epoch: epoch)
                        samples = try self.augmentedSamples(split, index: i, rng: &rng, audio: audio?[j], settings: augmentation)
                    } else {
                        samples = try audio?[j] ?? self.cleanSamples(split, index: i)
                    }
                    samples.withUnsafeBufferPointer { extractor.compute($0, into: out.pointer + j * per) }
                } catch {
                    let text = "\(error)"
                    failures.withLock { $0.append((i, text)) }
                }
            }
        }
        try Self.throwFailures(failures.withLock { $0 })
        return SplitFeatures(split: split, count: examples.count, frames: s.frames, featureCount: s.featureCount,
                             values: values, labels: examples.map(\.label))
    }
}

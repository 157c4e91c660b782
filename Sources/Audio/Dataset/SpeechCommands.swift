// The Google Speech Commands dataset in its folder layout, mapped to the 12 Google12 classes:
// the listing of the folder and the list files into splits (decoding, augmentation and features
// are extensions in the files beside this one).

import Foundation
import Runtime
import Synchronization

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

    /// The root folder (the first of `roots`).
    public let root: String
    /// Every folder the dataset was read from.
    public let roots: [String]
    /// Each root's list files (none: it was split by the hash).
    public let rootSplits: [(root: String, lists: [DatasetSplit])]
    /// The options used to build the splits.
    public let options: SpeechCommandsOptions
    /// The class names (`options.labels`: Google12's unless `options.keywords` names others).
    public let labels: [String]

    /// The label of a word folder: its keyword class, or `_unknown_`.
    public func label(forFolder folder: String) -> Int {
        labels.firstIndex(of: folder) ?? Self.unknownLabel
    }
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
    let noise: [[Float]]
    /// The background recordings augmentation mixes in (`noiseSource` says which), at the
    /// dataset's sample rate.
    public var noiseRecordings: [[Float]] { noise }

    /// Scans `root` and builds the splits. Throws `SpeechCommandsError` (root missing or without
    /// class folders, a list line naming a missing file or a file in two lists, unreadable
    /// background noise).
    public convenience init(root: String, options: SpeechCommandsOptions = .init()) throws {
        try self.init(roots: [root], options: options)
    }

    /// One root's word folders, files (relative paths) and split assignment.
    private struct ScannedRoot {
        var root: String
        var folders: [String] = []
        var files: [String] = []
        var assignment: [String: (split: DatasetSplit, line: Int)] = [:]
        var lists: [DatasetSplit] = []
        var backgroundFiles: [String] = []
        var hasBackgroundFolder = false
    }

    /// Several Speech Commands folders as one dataset (e.g. synthetic clips of a wake word and a
    /// folder of real speech for its unknown words): each root is split its own way (its list
    /// files, else the hash split), their examples are merged split by split, and the noise is
    /// every root's `_background_noise_` recordings. The first root names the dataset. Throws
    /// when no root has a keyword folder.
    public init(roots: [String], options: SpeechCommandsOptions = .init()) throws {
        guard let first = roots.first else { throw SpeechCommandsError("no data folder given") }
        self.root = first
        self.roots = roots
        self.options = options
        labels = options.labels
        try options.validate()
        let scans = try roots.map { try Self.scan($0, options: options) }
        let folders = Array(Set(scans.flatMap(\.folders))).sorted()
        wordFolders = folders
        let keywordFolders = folders.filter { options.labels.dropFirst(2).contains($0) }
        guard !keywordFolders.isEmpty else {
            let place = roots.count == 1 ? first : roots.joined(separator: ", ")
            if let keywords = options.keywords {
                throw SpeechCommandsError("\(place): no folder of the keyword\(keywords.count > 1 ? "s" : "") \(keywords.joined(separator: ", ")) holding audio files")
            }
            let found = folders.isEmpty ? "no folders with audio files" : "only \(folders.prefix(8).joined(separator: ", "))\(folders.count > 8 ? ", …" : "")"
            throw SpeechCommandsError("\(place): no class folders: expected the Speech Commands layout, one folder per word "
                                      + "(yes/, no/, up/, down/, left/, right/, on/, off/, stop/, go/) holding audio files; found \(found)")
        }
        rootSplits = scans.map { ($0.root, $0.lists) }
        listFilesFound = [DatasetSplit.validation, .testing].filter { split in scans.contains { $0.lists.contains(split) } }
        splitByHash = scans.contains { $0.lists.isEmpty }
        let hasBackgroundFolder = scans.contains { $0.hasBackgroundFolder }
        let backgroundFiles = scans.flatMap { s in s.backgroundFiles.map { s.root + "/" + $0 } }
        let allFiles = scans.flatMap { s in s.files.map { (root: s.root, relative: $0, split: s.assignment[$0]?.split ?? .training) } }

        // 3. Examples per split, then unknown subsampling and silence generation.
        var perSplit: [DatasetSplit: [SpeechExample]] = [:]
        var unknownPool: [DatasetSplit: [SpeechExample]] = [:]
        for (fileRoot, relative, split) in allFiles {
            let folder = String(relative[..<relative.firstIndex(of: "/")!])
            let example = SpeechExample(path: fileRoot + "/" + relative, relativePath: relative, word: folder,
                                        label: options.labels.firstIndex(of: folder) ?? Self.unknownLabel)
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
            for path in backgroundFiles {
                do {
                    let clip = try readAudio(path: path)
                    noise.append(options.noiseRange.cut(try clip.sampleRate == options.sampleRate ? clip.samples
                                 : resample(clip.samples, from: clip.sampleRate, to: options.sampleRate)))
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

    /// Step 1 and 2 of the scan for one root: word folders and their audio files, then the list
    /// files (or TensorFlow's hash split by speaker when there are none).
    private static func scan(_ root: String, options: SpeechCommandsOptions) throws -> ScannedRoot {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory) else {
            throw SpeechCommandsError("\(root): no such directory")
        }
        guard isDirectory.boolValue else { throw SpeechCommandsError("\(root): not a directory") }
        var scanned = ScannedRoot(root: root)

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
        for entry in entries where !entry.hasPrefix(".") {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: root + "/" + entry, isDirectory: &isDir), isDir.boolValue else { continue }
            let files = audioFiles(in: entry)
            if entry == "_background_noise_" {
                scanned.hasBackgroundFolder = true
                scanned.backgroundFiles = files.map { entry + "/" + $0 }
                continue
            }
            guard !files.isEmpty else { continue }
            scanned.folders.append(entry)
            scanned.files += files.map { entry + "/" + $0 }
        }

        // 2. List files.
        let known = Set(scanned.files)
        for split in [DatasetSplit.validation, .testing] {
            let listPath = root + "/" + split.listFileName!
            guard fm.fileExists(atPath: listPath) else { continue }
            scanned.lists.append(split)
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
                if let previous = scanned.assignment[line] {
                    if previous.split == split { continue }  // listed twice in the same file: harmless
                    throw SpeechCommandsError("\(where_): \(line) is also listed in \(previous.split.listFileName!) line \(previous.line); "
                                              + "a file can be in only one split")
                }
                scanned.assignment[line] = (split, number + 1)
            }
        }
        // Without list files, TensorFlow's hash split by speaker (train.py's default).
        if scanned.lists.isEmpty {
            for relative in scanned.files {
                scanned.assignment[relative] = (speechCommandsSplit(path: relative, validationPercentage: options.validationPercentage,
                                                                    testingPercentage: options.testingPercentage), 0)
            }
        }
        return scanned
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
        let hash = String(format: "split by TensorFlow's which_set hash of the speaker id (%g%% validation, %g%% testing)",
                          options.validationPercentage, options.testingPercentage)
        var lines = ["\(roots.joined(separator: " + ")): \(wordFolders.count) word folders; list files: "
                     + (roots.count > 1 ? rootSplits.map { "\($0.root): " + ($0.lists.isEmpty ? "none, " + hash : $0.lists.map { $0.listFileName! }.joined(separator: ", ")) }.joined(separator: "; ")
                        : splitByHash ? "none: " + hash : listFilesFound.map { $0.listFileName! }.joined(separator: ", "))]
        for split in DatasetSplit.allCases {
            let counts = labelCounts(split)
            let generated = examples(split).filter(\.isGeneratedSilence).count
            lines.append("  \(split.rawValue): \(examples(split).count) clips (" + zip(labels, counts).map { "\($0) \($1)" }.joined(separator: ", ")
                         + (generated > 0 ? "; \(generated) silence generated" : "") + ")")
        }
        lines.append("  background noise: \(noiseSource)" + (options.noiseRange.isWhole ? "" : ", part \(options.noiseRange) of each recording"))
        return lines.joined(separator: "\n")
    }
}

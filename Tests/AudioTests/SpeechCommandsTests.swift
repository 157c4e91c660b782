import Foundation
@testable import Runtime
import XCTest
@testable import Audio

/// Split building, the Google12 mapping, silence generation, augmentation, determinism and
/// bad-input errors on tiny generated trees.
final class SpeechCommandsTests: XCTestCase {
    /// yes/ no/ (keywords, 5 clips each), bed/ (6 clips → unknown), _background_noise_/ (a 3 s
    /// 16 kHz noise and a 2 s 8 kHz noise), list files naming one clip of each word per split,
    /// and a README at the root (ignored).
    func makeTree(background: Bool = true, lists: Bool = true) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        var rng = RandomGenerator(seed: 7)
        for (w, word) in ["yes", "no", "bed"].enumerated() {
            try FileManager.default.createDirectory(atPath: dir.file(word), withIntermediateDirectories: true)
            for k in 0..<(word == "bed" ? 6 : 5) {
                let tone = sine(frequency: 300 + 200 * Double(w) + 10 * Double(k), sampleRate: 16000, count: 4000, amplitude: 0.3)
                try writeWAV(path: dir.file("\(word)/s\(k)_nohash_0.wav"), samples: tone, sampleRate: 16000)
            }
        }
        if background {
            try FileManager.default.createDirectory(atPath: dir.file("_background_noise_"), withIntermediateDirectories: true)
            try writeWAV(path: dir.file("_background_noise_/white.wav"), samples: (0..<48000).map { _ in rng.uniform(-0.5, 0.5) }, sampleRate: 16000)
            try writeWAV(path: dir.file("_background_noise_/low.wav"), samples: (0..<16000).map { _ in rng.uniform(-0.2, 0.2) }, sampleRate: 8000)
            try "noise files\n".write(toFile: dir.file("_background_noise_/README.md"), atomically: true, encoding: .utf8)
        }
        if lists {
            try "yes/s1_nohash_0.wav\nno/s1_nohash_0.wav\r\nbed/s1_nohash_0.wav\n\n".write(toFile: dir.file("validation_list.txt"), atomically: true, encoding: .utf8)
            try "yes/s2_nohash_0.wav\nno/s2_nohash_0.wav\nbed/s2_nohash_0.wav\n".write(toFile: dir.file("testing_list.txt"), atomically: true, encoding: .utf8)
        }
        try "a tree for tests\n".write(toFile: dir.file("README.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func words(_ examples: [SpeechExample]) -> [String] { examples.map { $0.relativePath ?? "<silence>" } }

    func testGoogle12Mapping() {
        XCTAssertEqual(SpeechCommands.google12Labels, ["_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"])
        XCTAssertEqual(SpeechCommands.google12Label(forFolder: "yes"), 2)
        XCTAssertEqual(SpeechCommands.google12Label(forFolder: "go"), 11)
        XCTAssertEqual(SpeechCommands.google12Label(forFolder: "bed"), 1)
        XCTAssertEqual(SpeechCommands.google12Label(forFolder: "_unknown_"), 1)
        XCTAssertEqual(SpeechCommands.google12Label(forFolder: "_silence_"), 0)
    }

    /// A wake word's dataset: one root of synthetic clips of the word (hash split by voice, no
    /// noise), one of real speech whose every word is `_unknown_` (its lists, its noise).
    func testSeveralRootsAreOneDatasetWithCustomKeywords() throws {
        let real = try makeTree()
        let synth = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: synth.file("hey_lem"), withIntermediateDirectories: true)
        for voice in 0..<20 {
            try writeWAV(path: synth.file("hey_lem/voice\(voice)_nohash_p0.wav"), samples: sine(frequency: 900, sampleRate: 16000, count: 4000, amplitude: 0.3), sampleRate: 16000)
        }
        var options = SpeechCommandsOptions(unknownPercentage: nil)
        options.keywords = ["hey_lem"]
        let data = try SpeechCommands(roots: [synth.path, real.path], options: options)
        XCTAssertEqual(data.labels, ["_silence_", "_unknown_", "hey_lem"])
        XCTAssertEqual(data.wordFolders, ["bed", "hey_lem", "no", "yes"])
        XCTAssertEqual(data.noiseSource, .backgroundNoiseFolder(files: 2, seconds: 5), "the real root's noise")
        let all = DatasetSplit.allCases.flatMap { data.examples($0) }.filter { !$0.isGeneratedSilence }
        XCTAssertEqual(all.filter { $0.label == 2 }.count, 20, "every synthetic clip is a keyword")
        XCTAssertEqual(all.filter { $0.label == 1 }.count, 16, "yes, no and bed are unknown words here")
        // The real root keeps its lists; the synthetic one is split by voice (TF's hash).
        XCTAssertEqual(data.examples(.validation).filter { $0.word != "hey_lem" && !$0.isGeneratedSilence }.map(\.relativePath!).sorted(),
                       ["bed/s1_nohash_0.wav", "no/s1_nohash_0.wav", "yes/s1_nohash_0.wav"])
        for split in DatasetSplit.allCases {
            for e in data.examples(split) where e.word == "hey_lem" {
                XCTAssertEqual(speechCommandsSplit(path: e.relativePath!, validationPercentage: 10, testingPercentage: 10), split)
            }
        }
        XCTAssertThrowsError(try SpeechCommands(roots: [real.path], options: options)) { error in
            XCTAssertTrue("\(error)".contains("no folder of the keyword hey_lem"), "\(error)")
        }
    }

    func testSplitsFollowListsAndTFPercentages() throws {
        let dir = try makeTree()
        let data = try SpeechCommands(root: dir.path)
        XCTAssertEqual(data.wordFolders, ["bed", "no", "yes"])
        XCTAssertEqual(data.listFilesFound, [.validation, .testing])
        XCTAssertEqual(data.noiseSource, .backgroundNoiseFolder(files: 2, seconds: 5))  // 3 s + 2 s at 8 kHz resampled
        // Training: yes 3 + no 3 keywords; unknown ⌈6·10 %⌉ = 1 of bed's 4; silence ⌈0.6⌉ = 1.
        let train = data.examples(.training)
        XCTAssertEqual(data.labelCounts(.training), [1, 1, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(train.filter { $0.word == "yes" }.map(\.relativePath), ["yes/s0_nohash_0.wav", "yes/s3_nohash_0.wav", "yes/s4_nohash_0.wav"])
        XCTAssert(train.last!.isGeneratedSilence)
        XCTAssertEqual(train.last!.label, 0)
        XCTAssertEqual(train.first { $0.word == "bed" }!.label, 1)
        // Validation/testing: exactly the listed files (+1 generated silence each, as TF).
        XCTAssertEqual(words(data.examples(.validation)), ["bed/s1_nohash_0.wav", "no/s1_nohash_0.wav", "yes/s1_nohash_0.wav", "<silence>"])
        XCTAssertEqual(words(data.examples(.testing)), ["bed/s2_nohash_0.wav", "no/s2_nohash_0.wav", "yes/s2_nohash_0.wav", "<silence>"])
        XCTAssertEqual(data.examples(.testing).map(\.label), [1, 3, 2, 0])
        XCTAssert(data.summary.contains("training: 8 clips"), data.summary)

        // All unknown kept, no silence in evaluation, no silence at all.
        var options = SpeechCommandsOptions(unknownPercentage: nil, silenceInEvaluationSplits: false)
        let all = try SpeechCommands(root: dir.path, options: options)
        XCTAssertEqual(all.labelCounts(.training), [1, 4, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(all.labelCounts(.validation), [0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        options.silencePercentage = 0
        XCTAssertEqual(try SpeechCommands(root: dir.path, options: options).labelCounts(.training)[0], 0)
        // 50 % silence and unknown: ⌈3⌉ each.
        let half = try SpeechCommands(root: dir.path, options: SpeechCommandsOptions(silencePercentage: 50, unknownPercentage: 50))
        XCTAssertEqual(half.labelCounts(.training), [3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Without list files the hash split applies (HashSplitTests); at 0 % / 0 % all is training.
    func testWithoutListsAndZeroPercentagesEverythingIsTraining() throws {
        let dir = try makeTree(lists: false)
        let data = try SpeechCommands(root: dir.path, options: SpeechCommandsOptions(unknownPercentage: nil, validationPercentage: 0, testingPercentage: 0))
        XCTAssertEqual(data.examples(.training).filter { !$0.isGeneratedSilence }.count, 16)
        XCTAssertEqual(data.examples(.validation).count, 0)
        XCTAssertEqual(data.examples(.testing).count, 0)
    }

    /// Folders already named _unknown_ / _silence_ (the canonical test set's layout) are taken as
    /// those classes, not subsampled, and no silence is generated next to real silence clips;
    /// without _background_noise_ the training _silence_ clips are the noise.
    func testUnknownAndSilenceFoldersAndNoiseFallback() throws {
        let dir = try makeTree(background: false, lists: false)
        var rng = RandomGenerator(seed: 3)
        for folder in ["_unknown_", "_silence_"] {
            try FileManager.default.createDirectory(atPath: dir.file(folder), withIntermediateDirectories: true)
            for k in 0..<4 {
                let x: [Float] = folder == "_silence_" ? (0..<16000).map { _ in rng.uniform(-0.05, 0.05) }
                    : sine(frequency: 900, sampleRate: 16000, count: 8000, amplitude: 0.2)
                try writeWAV(path: dir.file("\(folder)/c\(k).wav"), samples: x, sampleRate: 16000)
            }
        }
        let allTraining = SpeechCommandsOptions(validationPercentage: 0, testingPercentage: 0)
        let data = try SpeechCommands(root: dir.path, options: allTraining)
        // keywords 10 → unknown: all 4 _unknown_ clips + ⌈1⌉ of bed; silence: the 4 files, none generated.
        XCTAssertEqual(data.labelCounts(.training), [4, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertFalse(data.examples(.training).contains { $0.isGeneratedSilence })
        XCTAssertEqual(data.examples(.training).filter { $0.word == "_unknown_" }.count, 4)
        XCTAssertEqual(data.noiseSource, .silenceClips(count: 4))
        // Augmentation draws noise from those clips: a silent-free keyword clip gets non-zero tail.
        let index = data.examples(.training).firstIndex { $0.word == "yes" }!
        var g = RandomGenerator(seed: 1)
        let settings = AugmentationSettings(timeShiftSamples: 0, backgroundFrequency: 1, backgroundVolume: 0.5)
        let x = try data.augmentedSamples(.training, index: index, rng: &g, settings: settings)
        XCTAssert(x[8000..<16000].contains { $0 != 0 }, "no noise mixed in after the 0.25 s tone")
        XCTAssert(x[8000..<16000].allSatisfy { abs($0) <= 0.5 * 0.05 + 1e-4 }, "noise louder than volume × source")

        // No noise at all: generated silence is all zeros and augmentation only shifts.
        let bare = try makeTree(background: false, lists: false)
        let quiet = try SpeechCommands(root: bare.path, options: allTraining)
        XCTAssertEqual(quiet.noiseSource, .none)
        let silence = quiet.examples(.training).firstIndex { $0.isGeneratedSilence }!
        XCTAssertEqual(try quiet.cleanSamples(.training, index: silence), [Float](repeating: 0, count: 16000))
        var g2 = RandomGenerator(seed: 5)
        XCTAssertEqual(try quiet.augmentedSamples(.training, index: silence, rng: &g2), [Float](repeating: 0, count: 16000))
    }

    func testGeneratedSilenceAndAugmentation() throws {
        let dir = try makeTree()
        let data = try SpeechCommands(root: dir.path)
        let train = data.examples(.training)
        // Generated silence: noise at a fixed volume, repeatable, within [-1, 1].
        let s = train.firstIndex { $0.isGeneratedSilence }!
        let silence = try data.cleanSamples(.training, index: s)
        XCTAssertEqual(silence.count, 16000)
        XCTAssert(silence.contains { $0 != 0 })
        XCTAssert(silence.allSatisfy { abs($0) <= 0.5 })
        XCTAssertEqual(try data.cleanSamples(.training, index: s), silence)
        // Evaluation splits get their own (different) fixed silence.
        let v = data.examples(.validation).firstIndex { $0.isGeneratedSilence }!
        XCTAssertNotEqual(try data.cleanSamples(.validation, index: v), silence)

        // Time shift only: the output is the clean clip moved by some |shift| ≤ 1600, zero-filled.
        let k = train.firstIndex { $0.word == "yes" }!
        let clean = try data.cleanSamples(.training, index: k)
        var sawPositive = false, sawNegative = false
        for seed in 0..<12 {
            var g = RandomGenerator(seed: UInt64(seed))
            let x = try data.augmentedSamples(.training, index: k, rng: &g, settings: AugmentationSettings(backgroundFrequency: 0))
            let shift = (-1600..<1600).first { sh in
                (0..<16000).allSatisfy { i in x[i] == ((i - sh >= 0 && i - sh < 16000) ? clean[i - sh] : 0) }
            }
            XCTAssertNotNil(shift, "seed \(seed): not a shifted copy")
            if let shift { sawPositive = sawPositive || shift > 0; sawNegative = sawNegative || shift < 0 }
        }
        XCTAssert(sawPositive && sawNegative)
        // Background always on: the difference to the shifted clip is noise of volume < 0.1 × 0.5.
        var g = RandomGenerator(seed: 99)
        let noisy = try data.augmentedSamples(.training, index: k, rng: &g,
                                              settings: AugmentationSettings(timeShiftSamples: 0, backgroundFrequency: 1))
        let diff = zip(noisy, clean).map { abs($0 - $1) }
        XCTAssertGreaterThan(diff.max()!, 0)
        XCTAssertLessThanOrEqual(diff.max()!, 0.05 + 1e-6)
        // Loud silence clips are clamped to [-1, 1].
        var g3 = RandomGenerator(seed: 4)
        let loud = try data.augmentedSamples(.training, index: s, rng: &g3, settings: AugmentationSettings(silenceVolume: 10))
        XCTAssert(loud.allSatisfy { abs($0) <= 1 })
    }

    func testFeaturesForASplitAreDeterministic() throws {
        let dir = try makeTree()
        let data = try SpeechCommands(root: dir.path)
        let extractor = try FeatureExtractor(settings: .mfcc)
        let clean = try data.features(.training, extractor: extractor)
        XCTAssertEqual(clean.count, 8)
        XCTAssertEqual([clean.frames, clean.featureCount], [101, 40])
        XCTAssertEqual(clean.values.count, 8 * 101 * 40)
        XCTAssertEqual(clean.labels, data.examples(.training).map(\.label))
        // Same as computing each clip by hand, with or without cached audio.
        let audio = try data.loadAudio(.training)
        XCTAssertEqual(Array(clean.values[(3 * 4040)..<(4 * 4040)]), extractor.compute(audio[3]))
        XCTAssertEqual(try data.features(.training, extractor: extractor, audio: audio).values, clean.values)
        // Augmented: reproducible per epoch, with or without the cache; different across epochs and seeds.
        let a0 = try data.features(.training, extractor: extractor, augmentation: .tensorFlow, epoch: 0)
        XCTAssertEqual(try data.features(.training, extractor: extractor, audio: audio, augmentation: .tensorFlow, epoch: 0).values, a0.values)
        XCTAssertNotEqual(try data.features(.training, extractor: extractor, audio: audio, augmentation: .tensorFlow, epoch: 1).values, a0.values)
        XCTAssertNotEqual(a0.values, clean.values)
        let other = try SpeechCommands(root: dir.path, options: SpeechCommandsOptions(seed: 12345))
        XCTAssertNotEqual(try other.features(.training, extractor: extractor, augmentation: .tensorFlow).values, a0.values)
        // A second scan with the same seed gives the same splits.
        let again = try SpeechCommands(root: dir.path)
        for split in DatasetSplit.allCases { XCTAssertEqual(again.examples(split), data.examples(split)) }
        // Settings must match the dataset's rate and length.
        var wrong = FeatureSettings.mfcc
        wrong.clipSamples = 8000
        XCTAssertThrowsError(try data.features(.training, extractor: try FeatureExtractor(settings: wrong))) {
            XCTAssert("\($0)".contains("do not match"), "\($0)")
        }
    }

    func assertDatasetError(_ root: String, _ phrases: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SpeechCommands(root: root), file: file, line: line) { error in
            for phrase in phrases { XCTAssert("\(error)".contains(phrase), "expected \"\(phrase)\" in: \(error)", file: file, line: line) }
        }
    }

    func testBadInputsGiveClearErrors() throws {
        let dir = try makeTree()
        assertDatasetError(dir.file("nope"), [dir.file("nope"), "no such directory"])
        assertDatasetError(dir.file("README.md"), ["not a directory"])

        // No class folders: only an unknown word and a file.
        let empty = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: empty.file("bed"), withIntermediateDirectories: true)
        try writeWAV(path: empty.file("bed/a.wav"), samples: [0.1, 0.2], sampleRate: 16000)
        assertDatasetError(empty.path, [empty.path, "no class folders", "found only bed"])
        let nothing = TemporaryDirectory()
        assertDatasetError(nothing.path, ["no class folders", "no folders with audio files"])

        // A list naming a missing file: list path, line number and the missing path.
        try "yes/s1_nohash_0.wav\nyes/ghost_nohash_0.wav\n".write(toFile: dir.file("validation_list.txt"), atomically: true, encoding: .utf8)
        assertDatasetError(dir.path, [dir.file("validation_list.txt") + ":2:", "yes/ghost_nohash_0.wav does not exist"])
        // A list naming something that is not a clip in a word folder.
        try "README.md\n".write(toFile: dir.file("validation_list.txt"), atomically: true, encoding: .utf8)
        assertDatasetError(dir.path, ["validation_list.txt:1:", "README.md is not an audio file in a word folder"])
        // A file in both lists.
        try "yes/s2_nohash_0.wav\n".write(toFile: dir.file("validation_list.txt"), atomically: true, encoding: .utf8)
        assertDatasetError(dir.path, ["testing_list.txt:1:", "also listed in validation_list.txt line 1"])
        try "yes/s1_nohash_0.wav\n".write(toFile: dir.file("validation_list.txt"), atomically: true, encoding: .utf8)

        // Unreadable audio: the error names the file (when decoded).
        try Data("not a wav".utf8).write(to: URL(fileURLWithPath: dir.file("no/broken_nohash_0.wav")))
        let data = try SpeechCommands(root: dir.path)
        let extractor = try FeatureExtractor(settings: .mfcc)
        for attempt in [{ _ = try data.loadAudio(.training) }, { _ = try data.features(.training, extractor: extractor) }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssert("\(error)".contains(self.dirPrefix(dir) + "no/broken_nohash_0.wav: not an audio file libsndfile can read"), "\(error)")
            }
        }
        // Two broken files: both named.
        try Data().write(to: URL(fileURLWithPath: dir.file("yes/empty_nohash_0.wav")))
        XCTAssertThrowsError(try SpeechCommands(root: dir.path).loadAudio(.training)) { error in
            XCTAssert("\(error)".contains("2 audio files could not be read"), "\(error)")
            XCTAssert("\(error)".contains("yes/empty_nohash_0.wav: empty file"), "\(error)")
        }
        // Unreadable background noise is reported when the dataset is opened.
        try Data("junk".utf8).write(to: URL(fileURLWithPath: dir.file("_background_noise_/bad.wav")))
        assertDatasetError(dir.path, ["background noise", "_background_noise_/bad.wav", "not an audio file"])
    }

    func testInvalidOptionsAreRejectedNotTrapped() throws {
        let dir = try makeTree()
        for options in [SpeechCommandsOptions(silencePercentage: -1), SpeechCommandsOptions(unknownPercentage: .nan),
                        SpeechCommandsOptions(unknownPercentage: 1e300), SpeechCommandsOptions(clipSamples: 0)] {
            XCTAssertThrowsError(try SpeechCommands(root: dir.path, options: options)) { XCTAssert("\($0)".contains("dataset options"), "\($0)") }
        }
        let data = try SpeechCommands(root: dir.path)
        let extractor = try FeatureExtractor(settings: .mfcc)
        for bad in [AugmentationSettings(timeShiftSamples: -5), AugmentationSettings(backgroundFrequency: 2),
                    AugmentationSettings(backgroundVolume: .infinity), AugmentationSettings(silenceVolume: -1)] {
            XCTAssertThrowsError(try data.features(.training, extractor: extractor, augmentation: bad)) { XCTAssert("\($0)".contains("augmentation"), "\($0)") }
        }
        // Odd but valid: a shift longer than the clip, and caller-supplied audio of the wrong length.
        var g = RandomGenerator(seed: 8)
        let k = data.examples(.training).firstIndex { $0.word == "no" }!
        XCTAssertEqual(try data.augmentedSamples(.training, index: k, rng: &g, audio: [], settings: AugmentationSettings(timeShiftSamples: 40000, backgroundFrequency: 0)),
                       [Float](repeating: 0, count: 16000))
        let long = try data.augmentedSamples(.training, index: k, rng: &g, audio: [Float](repeating: 0.5, count: 50000),
                                             settings: AugmentationSettings(timeShiftSamples: 40000, backgroundFrequency: 0))
        XCTAssertEqual(long.count, 16000)
    }

    func dirPrefix(_ dir: TemporaryDirectory) -> String { dir.path + "/" }
}

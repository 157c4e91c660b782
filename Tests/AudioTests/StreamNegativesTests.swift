import Foundation
@testable import Runtime
import XCTest
@testable import Audio

/// The training examples for streams: how many are added, with which labels and placements,
/// where the shifted audio lands, and noise at a stated SNR.
final class StreamNegativesTests: XCTestCase {
    /// yes/ and no/ (6 clips each: a 0.4 s tone in the middle of the second), bed/ (6, unknown),
    /// a white-noise background recording, no list files (all training with 0 % held out).
    func makeTree() throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        var rng = RandomGenerator(seed: 3)
        for (w, word) in ["yes", "no", "bed"].enumerated() {
            try FileManager.default.createDirectory(atPath: dir.file(word), withIntermediateDirectories: true)
            for k in 0..<6 {
                var clip = [Float](repeating: 0, count: 16000)
                let tone = sine(frequency: 400 + 300 * Double(w), sampleRate: 16000, count: 6400, amplitude: 0.3)
                for i in 0..<6400 { clip[4800 + i] = tone[i] }
                try writeWAV(path: dir.file("\(word)/s\(k)_nohash_0.wav"), samples: clip, sampleRate: 16000)
            }
        }
        try FileManager.default.createDirectory(atPath: dir.file("_background_noise_"), withIntermediateDirectories: true)
        try writeWAV(path: dir.file("_background_noise_/white.wav"), samples: (0..<48000).map { _ in rng.uniform(-0.5, 0.5) }, sampleRate: 16000)
        return dir
    }

    func options(_ negatives: StreamNegatives) -> SpeechCommandsOptions {
        SpeechCommandsOptions(silencePercentage: 10, unknownPercentage: 50, validationPercentage: 0, testingPercentage: 0,
                              streamNegatives: negatives)
    }

    func testNegativesAreAddedAsPercentagesOfTheKeywordsWithTheirLabels() throws {
        let dir = try makeTree()
        let plain = try SpeechCommands(root: dir.path, options: options(StreamNegatives()))
        let negatives = StreamNegatives(backgroundPercentage: 50, unknownPercentage: 25, shiftedKeywordPercentage: 100)
        let data = try SpeechCommands(root: dir.path, options: options(negatives))
        let before = plain.examples(.training), after = data.examples(.training)
        // 12 keyword clips: +6 background windows, +3 unknown words at any offset, +12 shifted keywords.
        XCTAssertEqual(after.count, before.count + 6 + 3 + 12)
        XCTAssertEqual(after.filter(\.isGeneratedSilence).count, before.filter(\.isGeneratedSilence).count + 6)
        let anyOffset = after.filter { $0.placement == .anyOffset }, shifted = after.filter { $0.placement == .mostlyOutside }
        XCTAssertEqual(anyOffset.count, 3)
        XCTAssertEqual(shifted.count, 12)
        XCTAssert(anyOffset.allSatisfy { $0.word == "bed" && $0.label == SpeechCommands.unknownLabel })
        XCTAssert(shifted.allSatisfy { ["yes", "no"].contains($0.word) && $0.label == SpeechCommands.unknownLabel })
        XCTAssert(after.last!.isGeneratedSilence, "generated silence stays last")
        // Only training gets them; the same options give the same list.
        XCTAssertEqual(data.examples(.validation).count, plain.examples(.validation).count)
        XCTAssertEqual(try SpeechCommands(root: dir.path, options: options(negatives)).examples(.training), after)
        // And the options round-trip through a checkpoint's JSON (older ones decode without them).
        let json = try JSONEncoder().encode(options(negatives))
        XCTAssertEqual(try JSONDecoder().decode(SpeechCommandsOptions.self, from: json), options(negatives))
    }

    /// A keyword "mostly outside" keeps 10–50 % of its energy in the window (on a 10 ms grid);
    /// an unknown word "at any offset" is the clip shifted by at most ½ s.
    func testShiftedAudioLandsWhereItShould() throws {
        let dir = try makeTree()
        let data = try SpeechCommands(root: dir.path, options: options(StreamNegatives(unknownPercentage: 100, shiftedKeywordPercentage: 100)))
        let train = data.examples(.training)
        let quiet = AugmentationSettings(backgroundFrequency: 0)
        var fractions: [Double] = []
        for index in train.indices where train[index].placement == .mostlyOutside {
            let clean = try loadClip(path: train[index].path!)
            let total = clean.reduce(0.0) { $0 + Double($1 * $1) }
            for seed in 0..<4 {
                var g = RandomGenerator(seed: UInt64(seed))
                let x = try data.augmentedSamples(.training, index: index, rng: &g, settings: quiet)
                let inside = x.reduce(0.0) { $0 + Double($1 * $1) } / total
                fractions.append(inside)
                XCTAssertGreaterThanOrEqual(inside, 0.1 - 0.03, "\(train[index].word) seed \(seed)")
                XCTAssertLessThanOrEqual(inside, 0.5 + 1e-9, "\(train[index].word) seed \(seed)")
            }
        }
        print("energy left inside the window for shifted keywords: min \(fractions.min()!), max \(fractions.max()!) (expected 0.1–0.5)")
        for index in train.indices where train[index].placement == .anyOffset {
            let clean = try loadClip(path: train[index].path!)
            var g = RandomGenerator(seed: 11)
            let x = try data.augmentedSamples(.training, index: index, rng: &g, settings: quiet)
            let shift = stride(from: -8000, to: 8000, by: 1).first { sh in
                stride(from: 0, to: 16000, by: 97).allSatisfy { i in x[i] == ((i - sh >= 0 && i - sh < 16000) ? clean[i - sh] : 0) }
            }
            XCTAssertNotNil(shift, "a shifted copy of the clip")
        }
    }

    /// Noise at a stated SNR: 20·log10(RMS of the clip / RMS of the added noise) is the drawn value.
    func testNoiseIsMixedAtTheStatedSpeechToNoiseRatio() throws {
        let dir = try makeTree()
        let data = try SpeechCommands(root: dir.path, options: options(StreamNegatives()))
        let k = data.examples(.training).firstIndex { $0.word == "yes" }!
        let clean = try data.cleanSamples(.training, index: k)
        let rms = { (x: [Float]) in (x.reduce(0.0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot() }
        for snr in [0.0, 10, 20] {
            var settings = AugmentationSettings(timeShiftSamples: 0, backgroundFrequency: 1)
            settings.backgroundSNRdB = snr...snr
            var g = RandomGenerator(seed: 5)
            let x = try data.augmentedSamples(.training, index: k, rng: &g, settings: settings)
            let observed = 20 * log10(rms(clean) / rms(zip(x, clean).map { $0 - $1 }))
            print(String(format: "SNR expected %.1f dB, observed %.3f dB, tolerance 0.05", snr, observed))
            XCTAssertEqual(observed, snr, accuracy: 0.05)
        }
    }

    func testHardNegativesFolder() throws {
        let dir = try makeTree()
        let hard = dir.file("hard")
        try FileManager.default.createDirectory(atPath: hard + "/a", withIntermediateDirectories: true)
        try writeWAV(path: hard + "/a/fa-1.wav", samples: [Float](repeating: 0.1, count: 16000), sampleRate: 16000)
        try writeWAV(path: hard + "/fa-2.wav", samples: [Float](repeating: -0.1, count: 8000), sampleRate: 16000)
        try "not audio\n".write(toFile: hard + "/notes.txt", atomically: true, encoding: .utf8)
        let data = try SpeechCommands(root: dir.path, options: options(StreamNegatives(hardNegatives: hard)))
        let mined = data.examples(.training).filter { $0.word == "_hard_negative_" }
        XCTAssertEqual(mined.map(\.path), [hard + "/a/fa-1.wav", hard + "/fa-2.wav"])
        XCTAssert(mined.allSatisfy { $0.label == SpeechCommands.unknownLabel })
        XCTAssertEqual(try data.loadAudio(.training).count, data.examples(.training).count)

        for (folder, problem) in [(dir.file("nowhere"), "no such directory (hard negatives)"), (dir.file("yes/s0_nohash_0.wav"), "no such directory"),
                                  (dir.file("_background_noise_/../empty"), "no such directory")] {
            XCTAssertThrowsError(try SpeechCommands(root: dir.path, options: options(StreamNegatives(hardNegatives: folder)))) {
                XCTAssertTrue("\($0)".contains(problem), "\($0)")
            }
        }
        try FileManager.default.createDirectory(atPath: dir.file("empty"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try SpeechCommands(root: dir.path, options: options(StreamNegatives(hardNegatives: dir.file("empty"))))) {
            XCTAssertTrue("\($0)".contains("no audio files (hard negatives)"), "\($0)")
        }
        XCTAssertThrowsError(try StreamNegatives(unknownPercentage: -1).validate())
        XCTAssertThrowsError(try StreamNegatives(backgroundPercentage: .nan).validate())
    }
}

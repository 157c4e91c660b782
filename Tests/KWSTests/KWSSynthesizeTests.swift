import Audio
import Foundation
@testable import KeywordSpotting
import LEMModel
import ToolTestSupport
import XCTest

/// `kws synthesize`: a Speech Commands folder from text, what a missing engine does, and the
/// pieces it is made of (sound-alike words, edit distance, where the word sits in its clip).
final class KWSSynthesizeTests: XCTestCase {
    func testAWordFromTextIsASpeechCommandsFolder() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/espeak-ng") else { return XCTFail("espeak-ng is not installed: run scripts/install-deps") }
        let dir = makeTemporaryDirectory()
        // flite, festival and Piper hidden: only espeak-ng on the PATH (a link to it alone).
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/bin/espeak-ng", withDestinationPath: "/usr/bin/espeak-ng")
        let r = try runTool("kws", ["synthesize", "--word", "jarvis", "--count", "12", "--negatives", "8", "--out", dir + "/synth", "--seed", "3"],
                            environment: ["PATH": dir + "/bin"])
        XCTAssertEqual(r.status, 0, r.stderr)
        print(r.stdout)
        for engine in ["flite", "festival", "piper"] {
            XCTAssertTrue(r.stdout.contains("skipping \(engine)"), "a missing engine is one line: \(r.stdout)")
        }
        XCTAssertTrue(r.stdout.contains("12 positives (jarvis/) and 8 negatives"), r.stdout)
        let positives = try FileManager.default.contentsOfDirectory(atPath: dir + "/synth/jarvis").filter { $0.hasSuffix(".wav") }
        XCTAssertEqual(positives.count, 12)
        XCTAssertTrue(positives.allSatisfy { $0.hasPrefix("espeak-ng-") && $0.contains("_nohash_") }, "\(positives)")
        // Each positive: a 1 s clip whose sound ends in its last part (0.6–0.95 s, plus a reverberant tail).
        for name in positives {
            let clip = try readAudio(path: dir + "/synth/jarvis/" + name).samples
            XCTAssertEqual(clip.count, 16000)
            let span = soundSpan(clip, rate: 16000)
            XCTAssertGreaterThanOrEqual(span.upperBound, 9000, name)
            XCTAssertGreaterThan(span.count, 2000, "\(name): a word, not a click")
        }
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/synth/synthesis.json"))) as! [String: Any]
        XCTAssertEqual(manifest["phonemes"] as? String, "jh aa r v ax s")
        XCTAssertEqual(manifest["positives"] as? Int, 12)
        XCTAssertEqual((manifest["skipped"] as? [String])?.count, 3)
        // The folder trains as any Speech Commands folder (its voices split by the hash).
        let data = try SpeechCommands(roots: [dir + "/synth"], options: SpeechCommandsOptions(keywords: ["jarvis"]))
        XCTAssertEqual(data.labels, ["_silence_", "_unknown_", "jarvis"])
        XCTAssertEqual(DatasetSplit.allCases.map { data.labelCounts($0)[2] }.reduce(0, +), 12)
        // Same seed, same clips.
        let again = try runTool("kws", ["synthesize", "--word", "jarvis", "--count", "12", "--negatives", "8", "--out", dir + "/again", "--seed", "3"],
                                environment: ["PATH": dir + "/bin"])
        XCTAssertEqual(again.status, 0, again.stderr)
        for name in positives {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/synth/jarvis/" + name), FileManager.default.contents(atPath: dir + "/again/jarvis/" + name), name)
        }
        let none = try runTool("kws", ["synthesize", "--word", "jarvis", "--out", dir + "/none"], environment: ["PATH": dir + "/empty"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.stderr.contains("no speech synthesiser found"), none.stderr)
        let bad = try runTool("kws", ["synthesize", "--word", "jarvis", "--out", dir + "/x", "--engines", "espeak,sam"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--engines: comma-separated names from espeak-ng, flite, festival, piper"), bad.stderr)
    }

    func testSoundAlikeWordsByPhonemeEditDistance() throws {
        XCTAssertEqual(editDistance(["k", "ae", "t"], ["k", "ae", "t"]), 0)
        XCTAssertEqual(editDistance(["k", "ae", "t"], ["b", "ae", "t"]), 1)
        XCTAssertEqual(editDistance(["k", "ae", "t"], ["k", "ae", "t", "s"]), 1)
        XCTAssertEqual(editDistance(["k", "ae", "t"], ["d", "ao", "g", "z"]), 4)
        XCTAssertEqual(editDistance(["k", "ae", "t"], ["d", "ao", "g", "z"], limit: 2), 3, "past the limit: limit + 1")
        let dir = makeTemporaryDirectory()
        try """
        ("alexa" nil (((ax) 0) ((l eh k) 1) ((s ax) 0)))
        ("alexis" nil (((ax) 0) ((l eh k) 1) ((s ih s) 0)))
        ("alexia" nil (((ax) 0) ((l eh k) 1) ((s iy) 0) ((ax) 0)))
        ("lexus" nil (((l eh k) 1) ((s ax s) 0)))
        ("banana" nil (((b ax) 0) ((n ae) 1) ((n ax) 0)))
        ("a.b" nil (((ey) 1)))
        """.write(toFile: dir + "/dict.out", atomically: true, encoding: .utf8)
        let dict = try PronouncingDictionary(path: dir + "/dict.out")
        XCTAssertEqual(dict.phonemes["alexa"], ["ax", "l", "eh", "k", "s", "ax"])
        XCTAssertNil(dict.phonemes["a.b"], "only letters and apostrophes")
        let near = dict.neighbours(of: dict.pronounce("alexa").phones!, excluding: ["alexa"])
        XCTAssertEqual(near.map(\.word), ["alexia", "alexis", "lexus"])
        XCTAssertEqual(near.map(\.distance), [1, 2, 2])
        XCTAssertEqual(dict.pronounce("hey alexa").unknown, ["hey"])
        XCTAssertThrowsError(try PronouncingDictionary(path: dir + "/missing.out")) { XCTAssertTrue("\($0)".contains("missing.out: cannot read the pronouncing dictionary")) }
    }

    func testPlacementAndEffectsKeepTheClipsShape() {
        let word = [Float](repeating: 0.5, count: 4000)
        let window = place(word, endingAt: 12000, length: 16000)
        XCTAssertEqual(soundSpan(window, rate: 16000), 8000..<12000)
        XCTAssertEqual(place(word, endingAt: 2000, length: 16000).filter { $0 != 0 }.count, 2000, "a word longer than its end loses its start")
        XCTAssertEqual(soundSpan(place(word + [Float](repeating: 0.1, count: 9000), startingAt: 8000, length: 16000), rate: 16000, floorDB: 60), 8000..<16000,
                       "a tail past the clip's end is cut, the word stays where it was put")
        var rng = RandomGenerator(seed: 1)
        let wet = reverberate(word, rate: 16000, rt60: 0.3, wet: 0.5, rng: &rng)
        XCTAssertEqual(wet.count, 4000 + 80 + 4800 - 1, "the tail of the room")
        XCTAssertEqual(wet.map(abs).max()!, 0.5, accuracy: 1e-6, "the peak level kept")
        // A peaking EQ at +6 dB lifts a tone at its centre frequency by 6 dB (after the transient).
        let tone = (0..<16000).map { Float(0.1 * sin(2 * Double.pi * 1000 * Double($0) / 16000)) }
        let lifted = peakingEQ(tone, rate: 16000, frequency: 1000, gainDB: 6, q: 1)
        let gain = 20 * log10(Double(lifted[8000...].map(abs).max()!) / 0.1)
        print("peaking EQ at its centre: expected +6 dB, observed \(gain) dB")
        XCTAssertEqual(gain, 6, accuracy: 0.05)
    }
}

/// `kws train --wake-word`: synthesis, training with real speech as unknown words, a validation
/// stream of held-out voices and a decision layer saved for `listen`, in one command (tiny sizes).
final class KWSWakeWordRecipeTests: XCTestCase {
    func testOneCommandFromTextToADecisionLayer() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/espeak-ng") else { return XCTFail("espeak-ng is not installed: run scripts/install-deps") }
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/speech", perClass: 12)
        let ckpt = dir + "/hey.ckpt"
        let r = try runTool("kws", ["train", "--wake-word", "hello", "--data", dir + "/speech", "--checkpoint", ckpt, "--synth-count", "40",
                                    "--epochs", "2", "--hidden", "8", "--batch", "16", "--validation-hours", "0.01", "--target-fa-per-hour", "100000"])
        XCTAssertEqual(r.status, 0, r.stderr)
        print(r.stdout)
        XCTAssertTrue(r.stdout.contains("synthesising \"hello\" into \(ckpt).synth"), r.stdout)
        XCTAssertTrue(r.stdout.contains("validation stream \(ckpt).valid.wav"), r.stdout)
        XCTAssertTrue(r.stdout.contains("decision layer (each keyword's share of 100000 FA/h): hello") && r.stdout.contains("saved in \(ckpt)"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ckpt + ".synth/hello"))
        let listened = try runTool("kws", ["listen", "--checkpoint", ckpt, ckpt + ".valid.wav"])
        XCTAssertEqual(listened.status, 0, listened.stderr)
        XCTAssertTrue(listened.stderr.contains("the checkpoint's decision layer: thresholds hello"), listened.stderr)
        // Run again: the clips are reused, not synthesised twice.
        let again = try runTool("kws", ["train", "--wake-word", "hello", "--data", dir + "/speech", "--checkpoint", ckpt, "--synth-count", "40",
                                        "--epochs", "1", "--hidden", "8", "--batch", "16", "--validation-hours", "0.01"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("using the clips already synthesised"), again.stdout)
    }
}

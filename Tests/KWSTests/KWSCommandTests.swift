import Audio
import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// A tiny Speech Commands tree whose "words" are tones: yes = 400 Hz, no = 1200 Hz, up = 2500 Hz,
/// and "bed" (→ _unknown_) a 700→2000 Hz chirp; each starts at a random onset in the first half
/// and lasts to the end of the clip, at a random level, over noise; speakers split between the
/// lists like the real dataset (`<speaker>_nohash_<n>.wav`).
func makeToneCorpus(_ root: String, perClass: Int = 12, seed: UInt64 = 1) throws {
    var rng = RandomGenerator(seed: seed)
    let words: [(String, (Double) -> Double)] = [
        ("yes", { _ in 400 }), ("no", { _ in 1200 }), ("up", { _ in 2500 }), ("bed", { t in 700 + 1300 * t }),
    ]
    var validation: [String] = [], testing: [String] = []
    for (word, frequency) in words {
        try FileManager.default.createDirectory(atPath: root + "/" + word, withIntermediateDirectories: true)
        for n in 0..<perClass {
            let speaker = String(format: "%08x", 0x1000 + n)
            let onset = rng.below(8000), level = rng.uniform(0.2, 0.6)
            var phase = 0.0
            let samples: [Float] = (0..<16000).map { i in
                let t = Double(i - onset) / 16000
                var v = rng.normal() * 0.01
                if i >= onset {
                    phase += 2 * Double.pi * frequency(t) / 16000
                    v += level * Float(sin(phase))
                }
                return v
            }
            let rel = "\(word)/\(speaker)_nohash_0.wav"
            try writeWAV(path: root + "/" + rel, samples: samples, sampleRate: 16000)
            if n % 6 == 4 { validation.append(rel) } else if n % 6 == 5 { testing.append(rel) }
        }
    }
    try FileManager.default.createDirectory(atPath: root + "/_background_noise_", withIntermediateDirectories: true)
    try writeWAV(path: root + "/_background_noise_/white.wav", samples: (0..<48000).map { _ in rng.normal() * 0.3 }, sampleRate: 16000)
    try (validation.joined(separator: "\n") + "\n").write(toFile: root + "/validation_list.txt", atomically: true, encoding: .utf8)
    try (testing.joined(separator: "\n") + "\n").write(toFile: root + "/testing_list.txt", atomically: true, encoding: .utf8)
}

final class KWSEndToEndTests: XCTestCase {
    func testTinyModelSeparatesSyntheticClassesAndTheToolsAgree() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 18)
        let ckpt = dir + "/tones.ckpt"
        let train = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "16", "--batch", "4",
                                        "--epochs", "25", "--lr", "0.01", "--lr-decay", "1", "--all-unknown", "--seed", "2"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stdout.contains("test accuracy"), train.stdout)
        XCTAssertTrue(train.stdout.contains("true \\ predicted"), "confusion matrix printed:\n\(train.stdout)")

        let eval = try runTool("kws", ["eval", "--checkpoint", ckpt, "--data", dir + "/data", "--split", "all", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let accuracy = object["accuracy"] as! Double, count = object["count"] as! Int
        let confusion = object["confusion"] as! [[Int]]
        print("tone corpus: accuracy over all splits \(accuracy) (N=\(count))")
        XCTAssertEqual(object["split"] as? String, "all")
        XCTAssertEqual(confusion.count, 12)
        XCTAssertEqual(confusion.joined().reduce(0, +), count)
        XCTAssertGreaterThan(accuracy, 0.9, "a 3-tone + chirp + silence problem should be learned")
        // The heat map beside it: one cell per pair, the diagonal counts written in.
        let svgPath = try XCTUnwrap(object["confusion_svg"] as? String)
        XCTAssertEqual(svgPath, ckpt + ".confusion-all.svg")
        let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "stroke=\"#ddd\"").count - 1, 144, "12 × 12 cells")
        XCTAssertTrue(svg.contains(">\(confusion[2][2])</text>"), "the count of yes → yes")

        // classify agrees with eval on a training file, and handles odd formats.
        let yes = dir + "/data/yes/00001000_nohash_0.wav"
        let samples = try readAudio(path: yes).samples
        try writeAudio(path: dir + "/yes-stereo-44k.wav", interleaved: try resample(samples, from: 16000, to: 44100).flatMap { [$0, $0] },
                       channels: 2, sampleRate: 44100, format: .pcm24)
        try writeAudio(path: dir + "/yes-8bit.wav", interleaved: samples, channels: 1, sampleRate: 16000, format: .pcmU8)
        let r = try runTool("kws", ["classify", "--checkpoint", ckpt, yes, dir + "/yes-stereo-44k.wav", dir + "/yes-8bit.wav", "--json", "--top", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.count, 3)
        for line in lines {
            XCTAssertEqual(line["label"] as? String, "yes", "\(line)")
            XCTAssertEqual((line["top"] as? [[String: Any]])?.count, 2)
            XCTAssertGreaterThan(line["probability"] as! Double, 0.3)
        }
    }

    func testClassifyReportsBadFilesAndContinues() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 6)
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "4", "--epochs", "1", "--batch", "8"]).status, 0)
        try "not audio".write(toFile: dir + "/text.wav", atomically: true, encoding: .utf8)
        let good = dir + "/data/no/00001000_nohash_0.wav"
        let bytes = FileManager.default.contents(atPath: good)!
        _ = FileManager.default.createFile(atPath: dir + "/truncated.wav", contents: bytes.prefix(2000))
        _ = FileManager.default.createFile(atPath: dir + "/empty.wav", contents: Data())
        let r = try runTool("kws", ["classify", "--checkpoint", ckpt, dir + "/text.wav", good, dir + "/missing.wav", dir + "/truncated.wav", dir + "/empty.wav"])
        XCTAssertEqual(r.status, 1, "a failed file makes the exit status non-zero")
        XCTAssertTrue(r.stdout.contains(good), "the good file is still classified:\n\(r.stdout)")
        for name in ["text.wav", "missing.wav", "truncated.wav", "empty.wav"] {
            XCTAssertTrue(r.stderr.contains(dir + "/" + name + ":"), "no error line for \(name):\n\(r.stderr)")
        }
        XCTAssertFalse(r.stderr.contains("Fatal error"))
    }

    /// Clips are classified in batches of 64: more than two batches with a bad file in the middle
    /// must give one line per file, in the files' order, each as if classified alone.
    func testClassifyManyFilesInOrderAsIfOneByOne() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 34)
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "8", "--epochs", "1", "--batch", "8"]).status, 0)
        var files = try FileManager.default.subpathsOfDirectory(atPath: dir + "/data").filter { $0.hasSuffix(".wav") && !$0.hasPrefix("_background_noise_") }.sorted().map { dir + "/data/" + $0 }
        XCTAssertGreaterThan(files.count, 2 * 64)
        files.insert(dir + "/missing.wav", at: 70)
        let r = try runTool("kws", ["classify", "--checkpoint", ckpt, "--json"] + files)
        XCTAssertEqual(r.status, 1, "the missing file makes the exit status non-zero")
        let lines = r.stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.map { $0["file"] as? String }, files, "one line per file, in order")
        XCTAssertNotNil(lines[70]["error"])
        for index in [0, 69, 71, files.count - 1] {
            let alone = try runTool("kws", ["classify", "--checkpoint", ckpt, "--json", files[index]])
            let object = try JSONSerialization.jsonObject(with: Data(alone.stdout.utf8)) as! [String: Any]
            let batched = lines[index]["probability"] as! Double, single = object["probability"] as! Double
            print("file \(index): probability in a batch \(batched), alone \(single)")
            XCTAssertEqual(lines[index]["label"] as? String, object["label"] as? String)
            XCTAssertEqual(batched, single, accuracy: 1e-5)
        }
    }
}

final class KWSBadInputTests: XCTestCase {
    func assertFails(_ arguments: [String], _ phrase: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runTool("kws", arguments)
        XCTAssertNotEqual(r.status, 0, "expected failure: kws \(arguments.joined(separator: " "))", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(phrase), "expected “\(phrase)” in:\n\(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), file: file, line: line)
    }

    func testHelp() throws {
        for args in [["--help"], ["train", "--help"], ["eval", "--help"], ["classify", "--help"], ["bench", "--help"]] {
            let r = try runTool("kws", args)
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.contains("Example") || r.stdout.contains("kws train"), "no example in kws \(args)")
        }
    }

    func testBadDataAndCheckpoints() throws {
        let dir = makeTemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try assertFails(["train", "--data", dir + "/empty", "--checkpoint", dir + "/x.ckpt"], dir + "/empty")
        try assertFails(["train", "--data", dir + "/nope", "--checkpoint", dir + "/x.ckpt"], "nope")
        try makeToneCorpus(dir + "/data", perClass: 6)
        try "yes/00001000_nohash_0.wav\nyes/does_not_exist.wav\n".write(toFile: dir + "/data/testing_list.txt", atomically: true, encoding: .utf8)
        try assertFails(["train", "--data", dir + "/data", "--checkpoint", dir + "/x.ckpt"], "does_not_exist.wav")

        // An lm checkpoint given to kws.
        let lmModel = LanguageModel(config: LanguageModelConfig(vocabularySize: 4, embeddingSize: 2, hiddenSize: 2, tied: true))
        try Checkpoint(kind: "lm", model: lmModel.config, tool: ["level": "word"], parameters: lmModel.parameters).write(to: dir + "/lm.ckpt")
        try assertFails(["classify", "--checkpoint", dir + "/lm.ckpt", dir + "/data/yes/00001000_nohash_0.wav"], "this is a lm checkpoint, not a kws checkpoint")
        try assertFails(["eval", "--checkpoint", dir + "/missing.ckpt", "--data", dir + "/data"], "missing.ckpt: cannot open")
        try assertFails(["train", "--data", dir + "/data", "--dropout", "2"], "--dropout must be in [0, 1)")
        try assertFails(["classify", "--checkpoint", dir + "/lm.ckpt"], "Missing expected argument")
    }
}

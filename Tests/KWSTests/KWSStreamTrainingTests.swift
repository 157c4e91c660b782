import Audio
import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// Training for streams through the binary: the stream negatives and SNR noise are recorded in
/// the checkpoint, `--init` starts from a model's weights (and refuses flags that would change
/// it), `--hard-negatives` adds a folder of clips, and bad values get clear errors.
final class KWSStreamTrainingTests: XCTestCase {
    func testFineTuningOnHardNegativesWithStreamNegatives() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 12)
        let base = dir + "/base.ckpt", tuned = dir + "/tuned.ckpt"
        let common = ["--data", dir + "/data", "--batch", "8", "--lr", "0.01", "--lr-decay", "1", "--seed", "3"]
        let first = try runTool("kws", ["train", "--checkpoint", base, "--hidden", "12", "--epochs", "3", "--stream-negatives", "--noise-snr-db", "0:20",
                                        "--reaugment-every", "1"] + common)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("stream negatives in training: 20% background windows, 40% unknown words at any offset"), first.stderr)

        // Two "false alarms" of the kind eval-stream --save-false-alarms writes.
        var rng = RandomGenerator(seed: 1)
        try FileManager.default.createDirectory(atPath: dir + "/hard", withIntermediateDirectories: true)
        for k in 0..<2 {
            try writeAudio(path: dir + "/hard/fa-\(k).wav", interleaved: (0..<16000).map { _ in rng.normal() * 0.05 }, channels: 1, sampleRate: 16000)
        }
        let second = try runTool("kws", ["train", "--checkpoint", tuned, "--init", base, "--hard-negatives", dir + "/hard", "--epochs", "1",
                                         "--save-every-steps", "1", "--max-steps", "2"] + common)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stderr.contains("starting from the weights of \(base)"), second.stderr)
        XCTAssertTrue(second.stderr.contains("hard negatives from \(dir)/hard"), second.stderr)
        XCTAssertTrue(second.stderr.contains("_unknown_ "), second.stderr)

        // The fine-tuned run resumes with its recorded dataset options (hard negatives included).
        let resumed = try runTool("kws", ["train", "--checkpoint", tuned, "--resume", "--epochs", "1"] + common)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("hard negatives from \(dir)/hard"), resumed.stderr)

        for (arguments, message) in [
            (["--init", base, "--hidden", "16"], "--hidden: with --init the model and its features come from the checkpoint"),
            (["--init", base, "--resume"], "--init starts a new run"),
            (["--noise-snr-db", "20:0"], "--noise-snr-db: expected LOW:HIGH"),
            (["--noise-snr-db", "x"], "--noise-snr-db: expected LOW:HIGH"),
            (["--shifted-keywords=-5"], "--shifted-keywords must be in [0, 10000]"),
            (["--stream-negatives", "--no-augment"], "the stream negatives are drawn by augmentation"),
            (["--hard-negatives", dir + "/nowhere"], "nowhere: no such directory (hard negatives)"),
            (["--init", dir + "/missing.ckpt"], "missing.ckpt"),
        ] {
            let r = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", dir + "/x.ckpt", "--epochs", "1"] + arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(r.stderr.contains(message), "\(arguments): \(r.stderr)")
        }
    }
}

import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// Training killed at arbitrary moments (SIGINT, SIGTERM, SIGKILL — also in the middle of writing
/// a checkpoint) and resumed until it finishes gives the same model as an uninterrupted run.
final class LMKillResumeTests: XCTestCase {
    func writeCorpus(_ dir: String) {
        var rng = RandomGenerator(seed: 5)
        let words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away"]
        for (name, lines) in [("ptb.train.txt", 500), ("ptb.valid.txt", 10), ("ptb.test.txt", 10)] {
            let text = (0..<lines).map { _ in " " + (0..<8).map { _ in words[rng.below(words.count)] }.joined(separator: " ") + " \n" }.joined()
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
        }
    }

    func testKilledAndResumedRunsEndBitIdentical() throws {
        let dir = makeTemporaryDirectory()
        writeCorpus(dir)
        let common = ["train", "--data", dir, "--hidden", "16", "--batch", "4", "--bptt", "6", "--epochs", "4",
                      "--dropout", "0.3", "--dropout-state", "0.2", "--seed", "4", "--save-every-steps", "3"]
        let straight = try runTool("lm", common + ["--checkpoint", dir + "/straight.ckpt"])
        XCTAssertEqual(straight.status, 0, straight.stderr)

        let ckpt = dir + "/killed.ckpt"
        let record = try trainKilledUntilFinished(tool: "lm", arguments: common, checkpoint: ckpt, kind: "lm", workDirectory: dir,
                                                  minimumMs: 0, spreadMs: 150, growthMs: 40)
        print("kill/resume: \(record.kills.count) interruptions: \(record.kills.joined(separator: ", "))")
        XCTAssertEqual(record.unreadable, [], "a kill must never leave a checkpoint that does not load")
        XCTAssertTrue(record.finished, "the run never finished")
        XCTAssertGreaterThan(record.kills.count, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/straight.ckpt"), FileManager.default.contents(atPath: ckpt),
                       "best checkpoint differs from the uninterrupted run")
        let a = try Checkpoint.read(path: dir + "/straight.ckpt.resume", expectedKind: "lm")
        let b = try Checkpoint.read(path: ckpt + ".resume", expectedKind: "lm")
        for name in a.file.names { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], "\(name) differs") }
        XCTAssertEqual(try a.trainingProgress()?.bestMetric, try b.trainingProgress()?.bestMetric)
        XCTAssertEqual(try a.trainingProgress()?.optimizerSteps, try b.trainingProgress()?.optimizerSteps)
    }

    /// A state saved at an epoch's end (here: a finished 1-epoch run, extended with `--epochs 2
    /// --resume`) starts the next epoch as the uninterrupted run does: from a fresh carried state,
    /// not the finished epoch's (a kill just after an epoch's end used to resume from the latter).
    func testResumingAtAnEpochBoundaryMatchesTheStraightRun() throws {
        let dir = makeTemporaryDirectory()
        writeCorpus(dir)
        let common = ["train", "--data", dir, "--hidden", "16", "--batch", "4", "--bptt", "6",
                      "--dropout", "0.3", "--dropout-state", "0.2", "--seed", "4"]
        let straight = try runTool("lm", common + ["--epochs", "2", "--checkpoint", dir + "/straight.ckpt"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let first = try runTool("lm", common + ["--epochs", "1", "--checkpoint", dir + "/extended.ckpt"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let extended = try runTool("lm", common + ["--epochs", "2", "--checkpoint", dir + "/extended.ckpt", "--resume"])
        XCTAssertEqual(extended.status, 0, extended.stderr)
        XCTAssertTrue(extended.stderr.contains("epoch 2, batch 1 of"), extended.stderr)
        let a = try Checkpoint.read(path: dir + "/straight.ckpt.resume", expectedKind: "lm")
        let b = try Checkpoint.read(path: dir + "/extended.ckpt.resume", expectedKind: "lm")
        var largest: Float = 0
        for name in a.file.names {
            guard let x = try? a.file.floats(name) else { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], name); continue }
            let y = try b.file.floats(name)
            XCTAssertEqual(x.count, y.count, name)
            largest = max(largest, zip(x, y).map { abs($0 - $1) }.max() ?? 0)
        }
        print("epoch-boundary resume: largest difference from the straight run \(largest) (expected 0)")
        XCTAssertEqual(largest, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/straight.ckpt"), FileManager.default.contents(atPath: dir + "/extended.ckpt"))
    }
}

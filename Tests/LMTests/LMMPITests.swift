import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `mpirun -np 2 lm train` on loopback: the same losses as one process with the same global
/// batch, identical bytes from two runs, a killed rank ends the job with an intact resume file,
/// and a 2-rank run resumes with one process.
final class LMMPITests: XCTestCase {
    func writeCorpus(_ dir: String, lines: Int = 300) {
        var rng = RandomGenerator(seed: 9)
        let words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "and", "back"]
        for (name, count) in [("ptb.train.txt", lines), ("ptb.valid.txt", 12), ("ptb.test.txt", 12)] {
            let text = (0..<count).map { _ in " " + (0..<9).map { _ in words[rng.below(words.count)] }.joined(separator: " ") + " \n" }.joined()
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(text.utf8))
        }
    }

    /// Per-epoch (train loss, valid loss) from a metrics log.
    func epochLosses(_ path: String) -> [(Double, Double)] {
        MetricsLog.records(path: path).filter { $0["event"] as? String == "valid" }.map {
            (($0["train_loss"] as? Double) ?? .nan, ($0["loss"] as? Double) ?? .nan)
        }
    }

    func testTwoRanksMatchOneProcessAndRepeatExactly() throws {
        let dir = makeTemporaryDirectory()
        writeCorpus(dir)
        // Dropout of every kind is on: masks are drawn per stream, so the split must not matter.
        let common = ["train", "--data", dir, "--hidden", "12", "--batch", "4", "--bptt", "8", "--epochs", "3", "--eval-streams", "4",
                      "--dropout", "0.3", "--dropout-state", "0.2", "--layers", "2", "--dropout-layer", "0.2", "--seed", "5"]
        let single = try runTool("lm", common + ["--checkpoint", dir + "/one.ckpt"], environment: ["LEM_THREADS": "1"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let first = try runMPI("lm", ranks: 2, common + ["--checkpoint", dir + "/two.ckpt"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("2 MPI ranks"), first.stdout)
        let again = try runMPI("lm", ranks: 2, common + ["--checkpoint", dir + "/two-again.ckpt"], tcp: true)
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)

        let one = epochLosses(dir + "/one.ckpt.metrics.jsonl"), two = epochLosses(dir + "/two.ckpt.metrics.jsonl")
        XCTAssertEqual(one.count, 3)
        XCTAssertEqual(two.count, 3)
        var worst = 0.0
        for (a, b) in zip(one, two) {
            worst = max(worst, abs(a.0 - b.0) / abs(a.0), abs(a.1 - b.1) / abs(a.1))
        }
        print("lm, 2 MPI ranks against 1 process: max relative difference of the per-epoch losses \(worst) (tolerance 1e-5)")
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/two.ckpt"), FileManager.default.contents(atPath: dir + "/two-again.ckpt"),
                       "two 2-rank runs (shared memory and TCP) must give identical checkpoints")
        // The resumable states hold the same tensors (their JSON differs in the elapsed time).
        let a = try Checkpoint.read(path: dir + "/two.ckpt.resume", expectedKind: "lm")
        let b = try Checkpoint.read(path: dir + "/two-again.ckpt.resume", expectedKind: "lm")
        XCTAssertEqual(a.file.names, b.file.names)
        for name in a.file.names { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], "\(name) differs") }
    }

    func testKilledRankEndsTheJobAndOneProcessResumes() throws {
        let dir = makeTemporaryDirectory()
        writeCorpus(dir, lines: 3000)
        let ckpt = dir + "/job.ckpt"
        let common = ["train", "--data", dir, "--hidden", "32", "--batch", "4", "--bptt", "10", "--epochs", "2", "--seed", "2"]
        let process = Process()
        process.executableURL = try mpirunURL()
        process.arguments = mpirunArguments(ranks: 2, tool: "lm") + common + ["--checkpoint", ckpt, "--save-every-steps", "5"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Wait until the job has saved a resumable state, then kill one rank.
        let start = Date()
        while !FileManager.default.fileExists(atPath: ckpt + ".resume") && Date().timeIntervalSince(start) < 60 && process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
        }
        Thread.sleep(forTimeInterval: 0.3)
        let ranks = childProcesses(of: process.processIdentifier)
        XCTAssertEqual(ranks.count, 2, "mpirun should have started two ranks")
        guard process.isRunning, let victim = ranks.last else { return XCTFail("the job ended before a rank could be killed") }
        let killed = Date()
        kill(victim, SIGKILL)
        while process.isRunning && Date().timeIntervalSince(killed) < 30 { Thread.sleep(forTimeInterval: 0.05) }
        let seconds = Date().timeIntervalSince(killed)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        print("lm: a SIGKILLed rank ended the MPI job in \(String(format: "%.2f", seconds)) s (limit 30), status \(process.terminationStatus)")
        XCTAssertLessThan(seconds, 30, "the job hung after a rank died")
        XCTAssertNotEqual(process.terminationStatus, 0)
        let saved = try Checkpoint.read(path: ckpt + ".resume", expectedKind: "lm")
        let steps = try XCTUnwrap(try saved.trainingProgress()).optimizerSteps
        XCTAssertGreaterThan(steps, 0)

        // The 2-rank job's resumable state, finished by one process.
        let resumed = try runTool("lm", common + ["--checkpoint", ckpt, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("finished all epochs"), resumed.stdout)
    }

    func testRefusesABatchTheRanksCannotSplit() throws {
        let dir = makeTemporaryDirectory()
        writeCorpus(dir)
        let start = Date()
        let result = try runMPI("lm", ranks: 2, ["train", "--data", dir, "--hidden", "8", "--batch", "5", "--bptt", "8", "--epochs", "1",
                                                 "--checkpoint", dir + "/x.ckpt"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("does not split evenly over 2 MPI ranks"), result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
    }

    func testRefusesRanksStartedWithDifferentFlags() throws {
        let dir = makeTemporaryDirectory()
        writeCorpus(dir)
        let common = ["train", "--data", dir, "--hidden", "8", "--batch", "4", "--bptt", "8", "--epochs", "1", "--checkpoint", dir + "/x.ckpt"]
        // MPMD: rank 0 and rank 1 get different learning rates.
        let process = Process()
        process.executableURL = try mpirunURL()
        process.arguments = mpirunArguments(ranks: 1, tool: "lm") + common + ["--lr", "0.002", ":", "-np", "1",
                                                                               productsDirectory().appendingPathComponent("lm").path]
            + common + ["--lr", "0.003"]
        let (status, _, text) = try runToCompletion(process)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("ranks differ in flags, data or parameters"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.ckpt"), "nothing may be trained")
    }
}

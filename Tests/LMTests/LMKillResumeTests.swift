import Foundation
import XCTest
import LEMModel

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

        let binary = productsDirectory().appendingPathComponent("lm")
        let ckpt = dir + "/killed.ckpt"
        var rng = RandomGenerator(seed: UInt64(getpid()))
        var kills: [String] = []
        var finished = false
        for attempt in 0..<60 where !finished {
            let process = Process()
            process.executableURL = binary
            process.arguments = common + ["--checkpoint", ckpt] + (FileManager.default.fileExists(atPath: ckpt + ".resume") ? ["--resume"] : [])
            let out = dir + "/run\(attempt).out"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: out)
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            // Later attempts wait longer, so the run always gets to finish eventually.
            let delay = Double(rng.below(150 + attempt * 40)) / 1000
            Thread.sleep(forTimeInterval: delay)
            if process.isRunning {
                let signal = [SIGKILL, SIGINT, SIGTERM][rng.below(3)]
                kill(process.processIdentifier, signal)
                kills.append("\(signal == SIGKILL ? "KILL" : signal == SIGINT ? "INT" : "TERM")@\(Int(delay * 1000))ms")
            }
            process.waitUntilExit()
            let output = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
            finished = process.terminationReason == .exit && process.terminationStatus == 0 && output.contains("finished all epochs")
            // A kill must never leave a checkpoint that does not load.
            for path in [ckpt, ckpt + ".resume"] where FileManager.default.fileExists(atPath: path) {
                XCTAssertNoThrow(try Checkpoint.read(path: path, expectedKind: "lm"), "after \(kills.last ?? "exit"): \(path) unreadable")
            }
        }
        print("kill/resume: \(kills.count) interruptions: \(kills.joined(separator: ", "))")
        XCTAssertTrue(finished, "the run never finished")
        XCTAssertGreaterThan(kills.count, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/straight.ckpt"), FileManager.default.contents(atPath: ckpt),
                       "best checkpoint differs from the uninterrupted run")
        let a = try Checkpoint.read(path: dir + "/straight.ckpt.resume", expectedKind: "lm")
        let b = try Checkpoint.read(path: ckpt + ".resume", expectedKind: "lm")
        for name in a.file.names { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], "\(name) differs") }
        XCTAssertEqual(a.training?.bestMetric, b.training?.bestMetric)
        XCTAssertEqual(a.training?.optimizerSteps, b.training?.optimizerSteps)
    }
}

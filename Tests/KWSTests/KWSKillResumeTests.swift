import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// kws training killed at arbitrary moments (SIGINT, SIGTERM, SIGKILL) and resumed until it
/// finishes ends with the same model as an uninterrupted run, with fresh augmentation draws.
final class KWSKillResumeTests: XCTestCase {
    func testKilledAndResumedRunsEndBitIdentical() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 12)
        let common = ["train", "--data", dir + "/data", "--hidden", "8", "--batch", "4", "--epochs", "6", "--reaugment-every", "2",
                      "--all-unknown", "--seed", "3", "--save-every-steps", "4"]
        let straight = try runTool("kws", common + ["--checkpoint", dir + "/straight.ckpt"])
        XCTAssertEqual(straight.status, 0, straight.stderr)

        let ckpt = dir + "/killed.ckpt"
        let record = try trainKilledUntilFinished(tool: "kws", arguments: common, checkpoint: ckpt, kind: "kws", workDirectory: dir,
                                                  minimumMs: 150, spreadMs: 200, growthMs: 60)
        print("kws kill/resume: \(record.kills.count) interruptions: \(record.kills.joined(separator: ", "))")
        XCTAssertEqual(record.unreadable, [], "a kill must never leave a checkpoint that does not load")
        XCTAssertTrue(record.finished, "the run never finished")
        XCTAssertGreaterThan(record.kills.count, 0)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/straight.ckpt"), FileManager.default.contents(atPath: ckpt),
                       "best checkpoint differs from the uninterrupted run")
        let a = try Checkpoint.read(path: dir + "/straight.ckpt.resume", expectedKind: "kws")
        let b = try Checkpoint.read(path: ckpt + ".resume", expectedKind: "kws")
        for name in a.file.names { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], "\(name) differs") }
        XCTAssertEqual(try a.trainingProgress()?.bestMetric, try b.trainingProgress()?.bestMetric)
    }
}

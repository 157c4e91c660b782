import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `mpirun -np 2 kws train` on loopback: the same losses and accuracies as one process with the
/// same global batch (augmentation, shuffling and dropout are per clip, features are computed in
/// shares and gathered), identical bytes from two runs, and the ranks' resumable state finished
/// by one process.
final class KWSMPITests: XCTestCase {
    func epochFigures(_ path: String) -> [(Double, Double, Double)] {
        MetricsLog.records(path: path).filter { $0["event"] as? String == "valid" }.map {
            (($0["train_loss"] as? Double) ?? .nan, ($0["loss"] as? Double) ?? .nan, ($0["metric"] as? Double) ?? .nan)
        }
    }

    func testTwoRanksMatchOneProcessAndResumeWithOne() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 10)
        let common = ["train", "--data", dir + "/data", "--hidden", "8", "--batch", "6", "--epochs", "3", "--reaugment-every", "1",
                      "--dropout", "0.2", "--all-unknown", "--seed", "7"]
        let single = try runTool("kws", common + ["--checkpoint", dir + "/one.ckpt"], environment: ["LEM_THREADS": "1"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let first = try runMPI("kws", ranks: 2, common + ["--checkpoint", dir + "/two.ckpt"], tcp: true)
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("2 MPI ranks"), first.stdout)
        XCTAssertTrue(first.stdout.contains("test accuracy"), "rank 0 tests the best checkpoint: \(first.stdout)")
        let again = try runMPI("kws", ranks: 2, common + ["--checkpoint", dir + "/two-again.ckpt"])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)

        let one = epochFigures(dir + "/one.ckpt.metrics.jsonl"), two = epochFigures(dir + "/two.ckpt.metrics.jsonl")
        XCTAssertEqual(one.count, 3)
        XCTAssertEqual(two.count, 3)
        var worst = 0.0
        for (a, b) in zip(one, two) {
            worst = max(worst, abs(a.0 - b.0) / abs(a.0), abs(a.1 - b.1) / abs(a.1))
            XCTAssertEqual(a.2, b.2, "validation accuracy")
        }
        print("kws, 2 MPI ranks against 1 process: max relative difference of the per-epoch losses \(worst) (tolerance 1e-5)")
        XCTAssertLessThan(worst, 1e-5)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/two.ckpt"), FileManager.default.contents(atPath: dir + "/two-again.ckpt"),
                       "two 2-rank runs must give identical checkpoints")

        // Stop a 2-rank run after 4 steps, finish it with one process: the same model as the
        // 2-rank run that went straight through (up to summation order).
        let stopped = try runMPI("kws", ranks: 2, common + ["--checkpoint", dir + "/mixed.ckpt", "--max-steps", "4"])
        XCTAssertEqual(stopped.status, 0, stopped.stdout + stopped.stderr)
        let resumed = try runTool("kws", common + ["--checkpoint", dir + "/mixed.ckpt", "--resume"], environment: ["LEM_THREADS": "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let mixed = epochFigures(dir + "/mixed.ckpt.metrics.jsonl")
        XCTAssertEqual(mixed.count, 3)
        for (a, b) in zip(two, mixed) { XCTAssertEqual(a.1, b.1, accuracy: 1e-5 * abs(a.1), "valid loss after a change of rank count") }
    }
}

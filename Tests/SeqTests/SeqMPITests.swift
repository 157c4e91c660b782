import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `mpirun -np 2 seq train` on loopback: the same losses and accuracies as one process with the
/// same global batch (each rank trains its share of every batch and validates its share of the
/// validation set), for a classifier and a regressor read out at every step.
final class SeqMPITests: XCTestCase {
    func epochFigures(_ path: String) -> [(Double, Double, Double)] {
        MetricsLog.records(path: path).filter { $0["event"] as? String == "valid" }.map {
            (($0["train_loss"] as? Double) ?? .nan, ($0["loss"] as? Double) ?? .nan, ($0["metric"] as? Double) ?? .nan)
        }
    }

    func compare(_ one: String, _ two: String, name: String) {
        let a = epochFigures(one), b = epochFigures(two)
        XCTAssertEqual(a.count, 3, name)
        XCTAssertEqual(b.count, 3, name)
        var worst = 0.0
        for (x, y) in zip(a, b) {
            worst = max(worst, abs(x.0 - y.0) / abs(x.0), abs(x.1 - y.1) / abs(x.1), abs(x.2 - y.2) / max(abs(x.2), 1e-12))
        }
        print("seq \(name), 2 MPI ranks against 1 process: max relative difference of the per-epoch losses and metrics \(worst) (tolerance 1e-4)")
        XCTAssertLessThan(worst, 1e-4, name)
    }

    func testTwoRanksMatchOneProcess() throws {
        let dir = makeTemporaryDirectory()
        var rng = RandomGenerator(seed: 5)
        var lines: [String] = []
        for _ in 0..<60 {
            let c = rng.below(2)
            lines.append("\(c)," + (0..<8).map { t in String(format: "%.3f", (t == 0 ? Float(c) : 0) + rng.normal() * 0.2) }.joined(separator: ","))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/c.csv", atomically: true, encoding: .utf8)
        let common = ["train", "--train", dir + "/c.csv", "--valid", dir + "/c.csv", "--hidden", "6", "--batch", "10", "--epochs", "3",
                      "--lr", "0.01", "--seed", "3"]
        let single = try runTool("seq", common + ["--checkpoint", dir + "/one.ckpt"], environment: ["LEM_THREADS": "1"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let two = try runMPI("seq", ranks: 2, common + ["--checkpoint", dir + "/two.ckpt"], tcp: true)
        XCTAssertEqual(two.status, 0, two.stdout + two.stderr)
        XCTAssertTrue((two.stdout + two.stderr).contains("2 MPI ranks"), two.stdout + two.stderr)
        compare(dir + "/one.ckpt.metrics.jsonl", dir + "/two.ckpt.metrics.jsonl", name: "classifier")

        let made = try runTool("seq", ["make-data", "fhn", "--out", dir + "/fhn", "--train", "8", "--valid", "4", "--test", "2"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let fhn = ["train", "--task", "fhn", "--data", dir + "/fhn", "--hidden", "4", "--batch", "4", "--epochs", "3", "--seed", "3"]
        let singleFHN = try runTool("seq", fhn + ["--checkpoint", dir + "/f1.ckpt"], environment: ["LEM_THREADS": "1"])
        XCTAssertEqual(singleFHN.status, 0, singleFHN.stderr)
        let twoFHN = try runMPI("seq", ranks: 2, fhn + ["--checkpoint", dir + "/f2.ckpt"])
        XCTAssertEqual(twoFHN.status, 0, twoFHN.stdout + twoFHN.stderr)
        compare(dir + "/f1.ckpt.metrics.jsonl", dir + "/f2.ckpt.metrics.jsonl", name: "regressor at every step")
    }
}

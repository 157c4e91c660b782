import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `seq` through the built binary: a classifier learns a sequence whose class is its first value
/// (memory over 20 steps), evaluation agrees with training's figure, every file format is read, and
/// bad files are refused with a message.
final class SeqCommandTests: XCTestCase {
    /// `count` sequences of 20 values: the first is ±1 (the class), the rest noise.
    func writeMemoryCSV(_ path: String, count: Int, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        var lines: [String] = []
        for _ in 0..<count {
            let first: Float = rng.below(2) == 0 ? -1 : 1
            let values = [first] + (0..<19).map { _ in rng.normal() * 0.3 }
            lines.append((first > 0 ? "pos" : "neg") + "," + values.map { String(format: "%.4f", $0) }.joined(separator: ","))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testLearnsToRememberTheFirstStepAndEvaluatesAlike() throws {
        let dir = makeTemporaryDirectory()
        try writeMemoryCSV(dir + "/train.csv", count: 400, seed: 1)
        try writeMemoryCSV(dir + "/valid.csv", count: 100, seed: 2)
        let r = try runTool("seq", ["train", "--train", dir + "/train.csv", "--valid", dir + "/valid.csv", "--test", dir + "/valid.csv",
                                    "--hidden", "16", "--batch", "20", "--epochs", "12", "--lr", "0.01", "--dt", "0.3", "--checkpoint", dir + "/m.ckpt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        print(r.stdout)
        let eval = try runTool("seq", ["eval", "--checkpoint", dir + "/m.ckpt", "--file", dir + "/valid.csv", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let accuracy = try XCTUnwrap(object["accuracy"] as? Double)
        print("seq: accuracy \(accuracy) on the memory task (chance 0.5)")
        XCTAssertGreaterThan(accuracy, 0.9)
        XCTAssertTrue(r.stdout.contains(String(format: "test accuracy %.2f%%", 100 * accuracy)), "the test line at the end agrees with seq eval")
        let predictions = try runTool("seq", ["eval", "--checkpoint", dir + "/m.ckpt", "--file", dir + "/valid.csv", "--predictions"])
        XCTAssertEqual(predictions.stdout.split(separator: "\n").count, 101, "one line per sequence and the summary")
        let int8 = try runTool("seq", ["eval", "--checkpoint", dir + "/m.ckpt", "--file", dir + "/valid.csv", "--int8", "--json"])
        XCTAssertEqual(int8.status, 0, int8.stderr)
        let int8Accuracy = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(int8.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double)
        print("seq --int8: accuracy \(int8Accuracy) (float \(accuracy))")
        XCTAssertGreaterThan(int8Accuracy, accuracy - 0.03, "int8 products keep the accuracy")
    }

    /// `--cell lru`: two LRU blocks learn the same memory task, through train, eval and predict.
    func testLRUBlocksLearnTheMemoryTask() throws {
        let dir = makeTemporaryDirectory()
        try writeMemoryCSV(dir + "/train.csv", count: 400, seed: 1)
        try writeMemoryCSV(dir + "/valid.csv", count: 100, seed: 2)
        let r = try runTool("seq", ["train", "--train", dir + "/train.csv", "--valid", dir + "/valid.csv", "--cell", "lru", "--layers", "2",
                                    "--hidden", "16", "--batch", "20", "--epochs", "6", "--lr", "0.01", "--checkpoint", dir + "/m.ckpt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("2 × LRU hidden 16"), r.stderr)
        let eval = try runTool("seq", ["eval", "--checkpoint", dir + "/m.ckpt", "--file", dir + "/valid.csv", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let accuracy = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double)
        print("seq --cell lru: accuracy \(accuracy) on the memory task (chance 0.5)")
        XCTAssertGreaterThan(accuracy, 0.9)
        let names = try Checkpoint.read(path: dir + "/m.ckpt", expectedKind: "seq").file.names
        for name in ["encoder.weight", "layers.0.lru.theta_log", "layers.1.out1.weight", "layers.1.norm.bias"] { XCTAssertTrue(names.contains(name), name) }
    }

    /// `seq quantize` writes an int8 checkpoint that eval runs in int8 by itself; `seq export`
    /// writes the ONNX model (onnxruntime's agreement is tools/onnx/check-exports.sh's) and
    /// refuses what it cannot export with a message.
    func testQuantizeAndExport() throws {
        let dir = makeTemporaryDirectory()
        try writeMemoryCSV(dir + "/train.csv", count: 200, seed: 1)
        try writeMemoryCSV(dir + "/valid.csv", count: 60, seed: 2)
        for cell in ["gru", "lru"] {
            let train = try runTool("seq", ["train", "--train", dir + "/train.csv", "--valid", dir + "/valid.csv", "--cell", cell,
                                            "--hidden", "8", "--batch", "20", "--epochs", "2", "--checkpoint", dir + "/\(cell).ckpt"])
            XCTAssertEqual(train.status, 0, train.stderr)
        }
        let quantize = try runTool("seq", ["quantize", "--checkpoint", dir + "/gru.ckpt"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stdout.contains("run it with `seq eval --checkpoint \(dir)/gru.int8.ckpt"), quantize.stdout)
        func accuracy(_ arguments: [String]) throws -> Double {
            let r = try runTool("seq", ["eval", "--file", dir + "/valid.csv", "--json"] + arguments)
            XCTAssertEqual(r.status, 0, r.stderr)
            return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["accuracy"] as! Double
        }
        let (int8File, int8Flag) = (try accuracy(["--checkpoint", dir + "/gru.int8.ckpt"]), try accuracy(["--checkpoint", dir + "/gru.ckpt", "--int8"]))
        print("seq quantize: accuracy \(int8File) from the int8 checkpoint, \(int8Flag) with --int8 on the float one")
        XCTAssertEqual(int8File, int8Flag, "a quantised checkpoint runs in int8 by itself")
        let export = try runTool("seq", ["export", "--checkpoint", dir + "/gru.ckpt"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.contains("1 × GRU as ONNX opset 17"), export.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/gru.onnx"))
        let lru = try runTool("seq", ["export", "--checkpoint", dir + "/lru.ckpt"])
        XCTAssertEqual(lru.status, 0, lru.stderr)
        XCTAssertTrue(lru.stdout.contains("× LRU as ONNX opset 17"), lru.stdout)
    }

    func testReadsTSAndRefusesBadFiles() throws {
        let dir = makeTemporaryDirectory()
        let ts = "@problemName Tiny\n@classLabel true a b\n@data\n" + (0..<8).map { i in "\(i % 2),1,2:\(i % 2),0,1:\(i % 2 == 0 ? "a" : "b")" }.joined(separator: "\n") + "\n"
        try ts.write(toFile: dir + "/t.ts", atomically: true, encoding: .utf8)
        let r = try runTool("seq", ["train", "--train", dir + "/t.ts", "--valid", dir + "/t.ts", "--hidden", "4", "--batch", "4", "--epochs", "1",
                                    "--checkpoint", dir + "/t.ckpt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("8 sequences of 3 steps × 2 features, 2 classes"), r.stderr)

        func fails(_ arguments: [String], _ message: String, line: UInt = #line) throws {
            let f = try runTool("seq", arguments)
            XCTAssertNotEqual(f.status, 0, line: line)
            XCTAssertTrue(f.stderr.contains(message), "expected “\(message)” in “\(f.stderr)”", line: line)
        }
        try "x".write(toFile: dir + "/data.txt", atomically: true, encoding: .utf8)
        try fails(["train", "--train", dir + "/data.txt", "--valid", dir + "/t.ts"], "data.txt: unknown format: give a .ts, .npz or .csv file")
        try "a,1,2,3\n".write(toFile: dir + "/other.csv", atomically: true, encoding: .utf8)
        try fails(["train", "--train", dir + "/t.ts", "--valid", dir + "/other.csv", "--checkpoint", dir + "/x.ckpt"], "other.csv: its sequences (3 × 1) or labels do not match")
        try "@targetLabel true\n@data\n1,2:0.5\n".write(toFile: dir + "/r.ts", atomically: true, encoding: .utf8)
        try fails(["train", "--train", dir + "/t.ts", "--valid", dir + "/r.ts", "--checkpoint", dir + "/x.ckpt"], "r.ts: its sequences (2 × 1) or labels do not match")
        try fails(["eval", "--checkpoint", dir + "/t.ckpt", "--file", dir + "/other.csv"], "other.csv: 1 features per step, the model reads 2")
        try fails(["train", "--train", dir + "/other.csv", "--valid", dir + "/other.csv", "--regression"], "line 1: target \"a\" is not a finite number")
        try fails(["train", "--train", dir + "/t.ts", "--valid", dir + "/t.ts", "--hidden", "0"], "--hidden must be at least 1")
        let help = try runTool("seq", ["train", "--help"])
        XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
    }

    /// Regression (`--regression`, a linear read-out on the mean squared error): the target is the
    /// first of 10 values, the rest noise; the model must beat predicting the mean (RMSE 0.58 for
    /// targets uniform in [−1, 1]) and `seq eval` must give the run's test figure.
    func testRegressesATargetCarriedByTheFirstStep() throws {
        let dir = makeTemporaryDirectory()
        var rng = RandomGenerator(seed: 3)
        for (name, count) in [("train", 400), ("valid", 100)] {
            var lines: [String] = []
            for _ in 0..<count {
                let a = rng.uniformFloat() * 2 - 1
                let values = [a] + (0..<9).map { _ in rng.normal() * 0.3 }
                lines.append(String(format: "%.4f,", a) + values.map { String(format: "%.4f", $0) }.joined(separator: ","))
            }
            try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/\(name).csv", atomically: true, encoding: .utf8)
        }
        let r = try runTool("seq", ["train", "--train", dir + "/train.csv", "--valid", dir + "/valid.csv", "--test", dir + "/valid.csv", "--regression",
                                    "--hidden", "16", "--batch", "20", "--epochs", "10", "--lr", "0.01", "--dt", "0.3", "--checkpoint", dir + "/r.ckpt"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let eval = try runTool("seq", ["eval", "--checkpoint", dir + "/r.ckpt", "--file", dir + "/valid.csv", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let rmse = try XCTUnwrap(object["rmse"] as? Double)
        print("seq --regression: RMSE \(rmse) (predicting the mean: 0.58)")
        XCTAssertLessThan(rmse, 0.3)
        XCTAssertTrue(r.stdout.contains(String(format: "test RMSE %.5g", rmse)), r.stdout)
        let predictions = try runTool("seq", ["eval", "--checkpoint", dir + "/r.ckpt", "--file", dir + "/valid.csv", "--predictions"])
        XCTAssertEqual(predictions.stdout.split(separator: "\n").count, 101)
    }
}

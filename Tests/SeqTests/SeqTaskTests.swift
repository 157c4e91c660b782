import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// The paper's tasks through the built `seq` binary, each on tiny data the test writes in the
/// task's own format (MNIST's IDX files, CIFAR-10 batches, the archives' .ts files, the .npz
/// files `seq make-data fhn` writes): train, evaluate, predict, and a clear error when the data
/// folder lacks the task's files.
final class SeqTaskTests: XCTestCase {
    func write(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    func bigEndian(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// `count` 28 × 28 digits in IDX files: the label is the brightness of the first row.
    func writeMNIST(_ dir: String, prefix: String, count: Int, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        var images = bigEndian(0x0803) + bigEndian(count) + bigEndian(28) + bigEndian(28)
        var labels = bigEndian(0x0801) + bigEndian(count)
        for _ in 0..<count {
            let label = rng.below(10)
            labels.append(UInt8(label))
            for p in 0..<784 { images.append(p < 28 ? UInt8(label * 25) : UInt8(rng.below(50))) }
        }
        try write(images, "\(dir)/\(prefix)-images-idx3-ubyte")
        try write(labels, "\(dir)/\(prefix)-labels-idx1-ubyte")
    }

    func run(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> (stdout: String, stderr: String) {
        let r = try runTool("seq", arguments)
        XCTAssertEqual(r.status, 0, "seq \(arguments.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        return (r.stdout, r.stderr)
    }

    func testSequentialAndPermutedMNISTFromIDXFiles() throws {
        let dir = makeTemporaryDirectory()
        try writeMNIST(dir, prefix: "train", count: 40, seed: 1)
        try writeMNIST(dir, prefix: "t10k", count: 10, seed: 2)
        for task in ["smnist", "psmnist"] {
            let r = try run(["train", "--task", task, "--data", dir, "--hidden", "4", "--batch", "10", "--epochs", "1", "--checkpoint", "\(dir)/\(task).ckpt"])
            XCTAssertTrue(r.stderr.contains("seq train: --task \(task): 38 sequences of 784 steps × 1 features, 10 classes; valid 2"), r.stderr)
            XCTAssertTrue(r.stderr.contains("split: 38 / 2 by torch.randperm(40)"), r.stderr)
            XCTAssertTrue(r.stderr.contains("model: 1 × LEM hidden 4, dt \(task == "smnist" ? "0.21" : "0.31")"), "the authors' Δt: \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("batch 10"), "flags override the preset: \(r.stderr)")
            XCTAssertTrue(task == "smnist" || r.stderr.contains("permuted by torch.randperm(784)"), r.stderr)
            XCTAssertTrue(r.stdout.contains("test accuracy"), "the t10k files are the test set: \(r.stdout)")
            let eval = try run(["eval", "--checkpoint", "\(dir)/\(task).ckpt", "--task", task, "--data", dir, "--split", "test", "--json"])
            let accuracy = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double)
            XCTAssertTrue(r.stdout.contains(String(format: "test accuracy %.2f%%", 100 * accuracy)), "eval agrees with the run's test line")
        }
    }

    func testNoisyCIFARFromAPartialSetOfBatches() throws {
        let dir = makeTemporaryDirectory()
        var rng = RandomGenerator(seed: 3)
        func batch(_ count: Int) -> [UInt8] { (0..<count).flatMap { _ in [UInt8(rng.below(10))] + (0..<3072).map { _ in UInt8(rng.below(256)) } } }
        try write(batch(20), "\(dir)/data_batch_2.bin")
        try write(batch(5), "\(dir)/test_batch.bin")
        let r = try run(["train", "--task", "ncifar", "--data", dir, "--hidden", "4", "--batch", "5", "--epochs", "1", "--checkpoint", "\(dir)/c.ckpt"])
        XCTAssertTrue(r.stderr.contains("sequences of 1000 steps × 96 features, 10 classes"), r.stderr)
        XCTAssertTrue(r.stderr.contains("data_batch_2 (20 of 50,000 training images)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("restricted to the images present"), r.stderr)
        XCTAssertTrue(r.stdout.contains("test accuracy") && r.stdout.contains("N=5"), r.stdout)
    }

    /// A .ts file of `count` series of `length` × `dims`, class = the sign pattern of the first value.
    func writeTS(_ path: String, count: Int, length: Int, dims: Int, classes: [String]?, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed)
        var text = "@problemName Tiny\n@univariate \(dims == 1)\n@dimensions \(dims)\n@equalLength true\n@seriesLength \(length)\n"
        text += classes.map { "@classLabel true \($0.joined(separator: " "))\n" } ?? "@targetLabel true\n"
        text += "@data\n"
        for _ in 0..<count {
            let label = classes.map { $0[rng.below($0.count)] } ?? String(format: "%.3f", rng.uniformFloat() * 100)
            let series = (0..<dims).map { _ in (0..<length).map { _ in String(format: "%.3f", rng.normal()) }.joined(separator: ",") }
            text += series.joined(separator: ":") + ":" + label + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testEigenWormsAndHeartRateFromArchiveFiles() throws {
        let dir = makeTemporaryDirectory()
        try writeTS("\(dir)/EigenWorms_TRAIN.ts", count: 8, length: 30, dims: 6, classes: ["1", "2", "3", "4", "5"], seed: 4)
        try writeTS("\(dir)/EigenWorms_TEST.ts", count: 6, length: 30, dims: 6, classes: ["1", "2", "3", "4", "5"], seed: 5)
        let worms = try run(["train", "--task", "eigenworms", "--data", dir, "--epochs", "1", "--checkpoint", "\(dir)/w.ckpt"])
        XCTAssertTrue(worms.stderr.contains("pooled: 14 series of 30 × 6, 5 classes"), worms.stderr)
        XCTAssertTrue(worms.stderr.contains("train_test_split(test_size=0.3, random_state=1234), then the 30 % halved with the same seed: 9 / 2 / 3"), worms.stderr)
        XCTAssertTrue(worms.stderr.contains("model: 1 × LEM hidden 32, dt 0.00017"), "the authors' settings: \(worms.stderr)")
        XCTAssertTrue(worms.stdout.contains("test accuracy") && worms.stdout.contains("N=3"), worms.stdout)

        try writeTS("\(dir)/BIDMC32HR_TRAIN.ts", count: 10, length: 40, dims: 2, classes: nil, seed: 6)
        try writeTS("\(dir)/BIDMC32HR_TEST.ts", count: 4, length: 40, dims: 2, classes: nil, seed: 7)
        let heart = try run(["train", "--task", "heart-rate", "--data", dir, "--epochs", "1", "--hidden", "8", "--checkpoint", "\(dir)/h.ckpt"])
        XCTAssertTrue(heart.stderr.contains("14 series of 40 × 2, unnormalised"), heart.stderr)
        XCTAssertTrue(heart.stderr.contains("1 regression target(s); valid"), heart.stderr)
        XCTAssertTrue(heart.stdout.contains("test RMSE"), heart.stdout)
    }

    func testFitzHughNagumoMakeDataTrainEvalPredict() throws {
        let dir = makeTemporaryDirectory()
        let made = try run(["make-data", "fhn", "--out", dir + "/fhn", "--train", "16", "--valid", "4", "--test", "4"])
        XCTAssertTrue(made.stdout.contains("train.npz: 16 sequences of 1000 steps"), made.stdout)
        let r = try run(["train", "--task", "fhn", "--data", dir + "/fhn", "--epochs", "3", "--batch", "8", "--hidden", "8", "--checkpoint", dir + "/f.ckpt"])
        XCTAssertTrue(r.stderr.contains("1 regression target(s) at every step"), r.stderr)
        XCTAssertTrue(r.stderr.contains("linear read-out at every step"), r.stderr)
        let eval = try run(["eval", "--checkpoint", dir + "/f.ckpt", "--task", "fhn", "--data", dir + "/fhn", "--split", "test", "--json"])
        let rmse = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])?["rmse"] as? Double)
        XCTAssertTrue(r.stdout.contains(String(format: "test RMSE %.5g", rmse)), "eval agrees with the run's test line (over all 4 × 1000 outputs)")
        let int8 = try run(["eval", "--checkpoint", dir + "/f.ckpt", "--task", "fhn", "--data", dir + "/fhn", "--split", "test", "--int8", "--json"])
        let int8RMSE = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(int8.stdout.utf8)) as? [String: Any])?["rmse"] as? Double)
        print("seq --task fhn: test RMSE \(rmse) float, \(int8RMSE) int8")
        XCTAssertLessThan(int8RMSE, rmse * 1.5 + 0.01, "int8 products stay close to float")
        let predict = try run(["predict", "--checkpoint", dir + "/f.ckpt", "--task", "fhn", "--data", dir + "/fhn", "--split", "test"])
        let lines = predict.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines.first?.split(separator: "\t").last?.split(separator: " ").count, 1000, "a prediction at every step")
    }

    func testPredictReadsUnlabelledFiles() throws {
        let dir = makeTemporaryDirectory()
        var lines: [String] = []
        var rng = RandomGenerator(seed: 8)
        for _ in 0..<20 {
            let c = rng.below(2)
            lines.append("\(c == 0 ? "neg" : "pos")," + (0..<5).map { _ in String(format: "%.3f", Float(c) + rng.normal() * 0.1) }.joined(separator: ","))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/l.csv", atomically: true, encoding: .utf8)
        _ = try run(["train", "--train", dir + "/l.csv", "--valid", dir + "/l.csv", "--hidden", "4", "--batch", "5", "--epochs", "1", "--checkpoint", dir + "/m.ckpt"])
        let unlabelled = lines.prefix(3).map { $0.split(separator: ",").dropFirst().joined(separator: ",") }.joined(separator: "\n")
        try (unlabelled + "\n").write(toFile: dir + "/u.csv", atomically: true, encoding: .utf8)
        let p = try run(["predict", "--checkpoint", dir + "/m.ckpt", "--file", dir + "/u.csv"])
        XCTAssertEqual(p.stdout.split(separator: "\n").count, 3, p.stdout)
        XCTAssertTrue(p.stdout.split(separator: "\n").allSatisfy { $0.contains("\tneg\t") || $0.contains("\tpos\t") }, "class names: \(p.stdout)")
        let labelled = try run(["predict", "--checkpoint", dir + "/m.ckpt", "--file", dir + "/l.csv", "--json"])
        XCTAssertEqual(labelled.stdout.split(separator: "\n").count, 20)
    }

    func testMissingDataNamesTheFilesAndTheFetchScript() throws {
        let dir = makeTemporaryDirectory()
        for (task, expected) in [("smnist", "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]"), ("ncifar", "corpora/fetch-cifar10.sh"),
                                 ("eigenworms", "EigenWorms_TRAIN.ts and EigenWorms_TEST.ts"), ("heart-rate", "corpora/fetch-bidmc32hr.sh")] {
            let r = try runTool("seq", ["train", "--task", task, "--data", dir, "--checkpoint", dir + "/x.ckpt"])
            XCTAssertEqual(r.status, 1)
            XCTAssertTrue(r.stderr.contains(dir) && r.stderr.contains(expected), "\(task): \(r.stderr)")
        }
        let both = try runTool("seq", ["train", "--task", "smnist", "--train", "a.csv"])
        XCTAssertTrue(both.stderr.contains("--task brings its own sets"), both.stderr)
        let neither = try runTool("seq", ["eval", "--checkpoint", "x.ckpt"])
        XCTAssertTrue(neither.stderr.contains("give the sequences: --file FILE, or --task TASK"), neither.stderr)
    }
}

import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `lm quantize` and `--int8` through the built binary: the int8 checkpoint's layout (I8 weights,
/// per-row scales, no training state), perplexity close to float whichever way int8 is asked
/// for, sampling from it, and the errors.
final class LMInt8Tests: XCTestCase {
    func perplexity(_ arguments: [String]) throws -> Double {
        let r = try runTool("lm", ["eval", "--split", "valid", "--json"] + arguments)
        XCTAssertEqual(r.status, 0, r.stderr)
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["perplexity"] as! Double
    }

    func testQuantisedCheckpointEvaluatesAndSamplesCloseToFloat() throws {
        let dir = makeTemporaryDirectory()
        var rng = RandomGenerator(seed: 5)
        let words = (0..<40).map { "w\($0)" }
        for (name, lines) in [("ptb.train.txt", 400), ("ptb.valid.txt", 40), ("ptb.test.txt", 40)] {
            // Lines where each word mostly predicts the next: something to learn, so that int8 is tested on a trained model.
            let text = (0..<lines).map { _ in
                var i = rng.below(40)
                return " " + (0..<8).map { _ in defer { i = rng.below(10) < 8 ? (i + 1) % 40 : rng.below(40) }; return words[i] }.joined(separator: " ") + " "
            }.joined(separator: "\n") + "\n"
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        let ckpt = dir + "/m.ckpt", q = dir + "/m.int8.ckpt"
        let train = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--hidden", "32", "--batch", "8", "--bptt", "10",
                                       "--epochs", "4", "--lr", "0.01", "--seed", "2"])
        XCTAssertEqual(train.status, 0, train.stderr)

        let quantize = try runTool("lm", ["quantize", "--checkpoint", ckpt])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stdout.contains(q), quantize.stdout)
        let file = try SafeTensorsFile.read(path: q), float = try SafeTensorsFile.read(path: ckpt)
        XCTAssertEqual(file.metadata["quantization"], Checkpoint.int8Quantization)
        XCTAssertNil(file.metadata["training"])
        XCTAssertFalse(file.names.contains { $0.hasPrefix("optimizer.") })
        for name in ["embedding.weight", "lem.inp2hid.weight", "lem.hid2hid.weight", "lem.transform_z.weight"] {
            let stored = try XCTUnwrap(file.tensors[name], name)
            XCTAssertEqual(stored.dtype, .i8, name)
            let scales = try file.floats(name + ".scale"), values = try file.int64s(name), original = try float.floats(name)
            let k = stored.shape[1]
            var worst: Float = 0   // |scale · q − w| ≤ scale / 2 for every element
            for (i, w) in original.enumerated() { worst = max(worst, abs(scales[i / k] * Float(values[i]) - w) / (scales[i / k] / 2)) }
            print("\(name): max |scale·q − w| = \(worst) × scale/2 (tolerance 1.0001)")
            XCTAssertLessThanOrEqual(worst, 1.0001, name)
        }
        XCTAssertEqual(file.tensors["lem.inp2hid.bias"]?.dtype, .f32, "biases stay float")
        let sizes = try [ckpt, q].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
        print("checkpoint: float \(sizes[0]) bytes, int8 \(sizes[1]) bytes")
        XCTAssertLessThan(sizes[1], sizes[0] / 2)

        let pplFloat = try perplexity(["--checkpoint", ckpt, "--data", dir])
        let pplFlag = try perplexity(["--checkpoint", ckpt, "--data", dir, "--int8"])
        let pplFile = try perplexity(["--checkpoint", q, "--data", dir])
        print("valid perplexity: float \(pplFloat), --int8 \(pplFlag), int8 checkpoint \(pplFile) (tolerance 1 % of float)")
        XCTAssertLessThan(pplFloat, 30, "the model should have learnt something (uniform: 40)")
        XCTAssertEqual(pplFlag, pplFloat, accuracy: 0.01 * pplFloat)
        XCTAssertEqual(pplFile, pplFloat, accuracy: 0.01 * pplFloat)
        XCTAssertNotEqual(pplFlag, pplFloat, "--int8 must not silently run in float")
        // The embedding is stored as int8 too, but its rows feed only the first layer's input
        // product, whose activations are quantised row by row with the rule that stored them:
        // the same integers either way (the scales at most an ulp apart).
        XCTAssertEqual(pplFile, pplFlag, accuracy: 1e-5 * pplFlag, "the int8 checkpoint runs what --int8 runs")

        let sample = try runTool("lm", ["sample", "--checkpoint", q, "--length", "30", "--seed", "4"])
        XCTAssertEqual(sample.status, 0, sample.stderr)
        XCTAssertEqual(sample.stdout.split(whereSeparator: \.isWhitespace).count, 30 - sample.stdout.filter { $0 == "\n" }.count + 1,
                       "30 tokens (<eos> as line breaks): \(sample.stdout)")

        // Errors: quantising twice, overwriting the float checkpoint, a scale tensor missing.
        let twice = try runTool("lm", ["quantize", "--checkpoint", q, "--output", dir + "/again.ckpt"])
        XCTAssertNotEqual(twice.status, 0)
        XCTAssertTrue(twice.stderr.contains("already quantised"), twice.stderr)
        for output in [ckpt, dir + "/./m.ckpt"] {
            let same = try runTool("lm", ["quantize", "--checkpoint", ckpt, "--output", output])
            XCTAssertNotEqual(same.status, 0)
            XCTAssertTrue(same.stderr.contains("--output must differ"), same.stderr)
        }
        let bench = try runTool("lm", ["bench", "--int8"])
        XCTAssertNotEqual(bench.status, 0)
        XCTAssertTrue(bench.stderr.contains("--int8 applies to --config sample-word or sample-char"), bench.stderr)
        var broken = file
        broken.remove("lem.hid2hid.weight.scale")
        try broken.write(atomicallyTo: dir + "/broken.ckpt")
        let bad = try runTool("lm", ["sample", "--checkpoint", dir + "/broken.ckpt", "--length", "3"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("broken.ckpt") && bad.stderr.contains("lem.hid2hid.weight.scale"), bad.stderr)
    }
}

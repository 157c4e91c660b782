import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `kws quantize` and `--int8` through the built binary: accuracy and probabilities close to
/// float, the int8 checkpoint used automatically, and fine-tuning from it refused.
final class KWSInt8Tests: XCTestCase {
    func accuracy(_ arguments: [String]) throws -> Double {
        let r = try runTool("kws", ["eval", "--split", "all", "--json", "--confusion-svg", "none"] + arguments)
        XCTAssertEqual(r.status, 0, r.stderr)
        return (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any])["accuracy"] as! Double
    }

    func testQuantisedSpotterAgreesWithFloat() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 18)
        let ckpt = dir + "/tones.ckpt", q = dir + "/tones.int8.ckpt"
        let train = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "16", "--batch", "4",
                                        "--epochs", "12", "--lr", "0.01", "--lr-decay", "1", "--all-unknown", "--seed", "2"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let quantize = try runTool("kws", ["quantize", "--checkpoint", ckpt])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertEqual(try SafeTensorsFile.read(path: q).tensors["classifier.weight"]?.dtype, .i8)

        let float = try accuracy(["--checkpoint", ckpt, "--data", dir + "/data"])
        let flag = try accuracy(["--checkpoint", ckpt, "--data", dir + "/data", "--int8"])
        let file = try accuracy(["--checkpoint", q, "--data", dir + "/data"])
        print("tone corpus accuracy: float \(float), --int8 \(flag), int8 checkpoint \(file) (tolerance 0.03)")
        XCTAssertGreaterThan(float, 0.8)
        XCTAssertEqual(flag, float, accuracy: 0.03)
        XCTAssertEqual(file, float, accuracy: 0.03)

        let yes = dir + "/data/yes/00001000_nohash_0.wav"
        var probabilities: [Double] = []
        for arguments in [["--checkpoint", ckpt], ["--checkpoint", ckpt, "--int8"], ["--checkpoint", q]] {
            let r = try runTool("kws", ["classify", "--json", yes] + arguments)
            XCTAssertEqual(r.status, 0, r.stderr)
            let line = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            XCTAssertEqual(line["label"] as? String, "yes")
            probabilities.append(line["probability"] as! Double)
        }
        print("classify yes: probability float \(probabilities[0]), --int8 \(probabilities[1]), int8 checkpoint \(probabilities[2]) (tolerance 0.02)")
        XCTAssertEqual(probabilities[1], probabilities[0], accuracy: 0.02)
        XCTAssertEqual(probabilities[2], probabilities[1], accuracy: 1e-4, "the int8 checkpoint runs what --int8 runs")

        let refine = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", dir + "/again.ckpt", "--init", q, "--epochs", "1"])
        XCTAssertNotEqual(refine.status, 0)
        XCTAssertTrue(refine.stderr.contains("int8") && refine.stderr.contains("float checkpoint"), refine.stderr)
    }
}

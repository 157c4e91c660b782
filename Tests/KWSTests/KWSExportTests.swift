import Foundation
import ToolTestSupport
import XCTest

/// `kws export` and `kws classify --save-features` through the built binary. (The graphs are
/// checked in ONNXExportTests; onnxruntime's numbers by tools/onnx/check-exports.sh.)
final class KWSExportTests: XCTestCase {
    func testExportAndTheFeaturesAnExportReads() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 6)
        let ckpt = dir + "/tones.ckpt"
        let train = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "8", "--batch", "4",
                                        "--epochs", "1", "--cell", "lstm", "--layers", "2", "--all-unknown"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let export = try runTool("kws", ["export", "--checkpoint", ckpt, "--onnx", dir + "/t.onnx"])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.hasPrefix(dir + "/t.onnx: 2 × LSTM as ONNX opset 17"), export.stdout)
        XCTAssertTrue(export.stdout.contains("outputs probabilities, logits, state_y_out, state_z_out"), export.stdout)
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/t.onnx")), as: UTF8.self)
        for key in ["lem.labels", "lem.features", "lem.normalizer", "normalizer.mean", "onnx_lstm_l1.W"] { XCTAssertTrue(text.contains(key), key) }

        let clips = try FileManager.default.contentsOfDirectory(atPath: dir + "/data/yes").sorted().prefix(3).map { dir + "/data/yes/" + $0 }
        let classify = try runTool("kws", ["classify", "--checkpoint", ckpt, "--save-features", dir + "/x.npy"] + clips)
        XCTAssertEqual(classify.status, 0, classify.stderr)
        XCTAssertTrue(classify.stderr.contains("features of 3 clip(s) [3, 101, 40] written to \(dir)/x.npy"), classify.stderr)
        let npy = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/x.npy")))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'shape': (3, 101, 40)"), header)
        XCTAssertEqual(npy.count, 10 + headerLength + 4 * 3 * 101 * 40)

        let wrongKind = try runTool("kws", ["export", "--checkpoint", dir + "/data/yes/" + "missing.ckpt"])
        XCTAssertNotEqual(wrongKind.status, 0)
        XCTAssertTrue(wrongKind.stderr.contains("missing.ckpt"), wrongKind.stderr)
    }
}

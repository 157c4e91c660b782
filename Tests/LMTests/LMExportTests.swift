import Foundation
import ToolTestSupport
import XCTest

/// `lm export` through the built binary: what a user sees, the file it writes, and the errors.
/// (The graphs are checked in ONNXExportTests; onnxruntime's numbers by tools/onnx/check-exports.sh.)
final class LMExportTests: XCTestCase {
    func testExportWritesAnONNXModelBesideTheCheckpoint() throws {
        let dir = makeTemporaryDirectory()
        let words = (0..<12).map { "w\($0)" }
        for (name, lines) in [("ptb.train.txt", 60), ("ptb.valid.txt", 10), ("ptb.test.txt", 10)] {
            let text = (0..<lines).map { i in " " + (0..<6).map { words[($0 + i) % 12] }.joined(separator: " ") + " " }.joined(separator: "\n") + "\n"
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        let ckpt = dir + "/m.ckpt"
        let train = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--cell", "gru", "--layers", "2", "--hidden", "8",
                                       "--embedding", "8", "--batch", "4", "--bptt", "5", "--epochs", "1"])
        XCTAssertEqual(train.status, 0, train.stderr)

        let export = try runTool("lm", ["export", "--checkpoint", ckpt])
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertTrue(export.stdout.hasPrefix(dir + "/m.onnx: 2 × GRU as ONNX opset 17"), export.stdout)
        XCTAssertTrue(export.stdout.contains("inputs tokens, state_y; outputs logits, state_y_out"), export.stdout)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/m.onnx")))
        XCTAssertEqual(bytes.first, 0x08, "a ModelProto starts with ir_version (field 1, varint)")
        let text = String(decoding: bytes, as: UTF8.self)
        for key in ["lem.vocabulary", "lem.start_token_id", "lem.level", "\"w11\""] { XCTAssertTrue(text.contains(key), key) }

        // --onnx names the file; the same checkpoint gives the same bytes.
        let named = try runTool("lm", ["export", "--checkpoint", ckpt, "--onnx", dir + "/other.onnx"])
        XCTAssertEqual(named.status, 0, named.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/other.onnx")), Data(bytes))
    }

    func testExportErrorsNameTheFile() throws {
        let dir = makeTemporaryDirectory()
        let missing = try runTool("lm", ["export", "--checkpoint", dir + "/none.ckpt"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains(dir + "/none.ckpt"), missing.stderr)
        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: dir + "/bad.ckpt"))
        let bad = try runTool("lm", ["export", "--checkpoint", dir + "/bad.ckpt"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains(dir + "/bad.ckpt"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.onnx"))
        let help = try runTool("lm", ["export", "--help"])
        XCTAssertTrue(help.stdout.contains("lm export --checkpoint ptb-word.ckpt --onnx ptb-word.onnx"), help.stdout)
    }
}

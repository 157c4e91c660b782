import Audio
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

        let missing = try runTool("kws", ["export", "--checkpoint", dir + "/missing.ckpt"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("missing.ckpt"), missing.stderr)
        // The export never replaces the checkpoint it reads.
        let over = try runTool("kws", ["export", "--checkpoint", ckpt, "--onnx", ckpt])
        XCTAssertNotEqual(over.status, 0)
        XCTAssertTrue(over.stderr.contains("would overwrite the checkpoint"), over.stderr)
        XCTAssertEqual(try runTool("kws", ["classify", "--checkpoint", ckpt, clips[0]]).status, 0, "the checkpoint still loads")

        // With the front end in the graph: raw clips in, no state.
        let raw = try runTool("kws", ["export", "--checkpoint", ckpt, "--onnx", dir + "/raw.onnx", "--raw-audio"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertTrue(raw.stdout.contains("inputs audio; outputs probabilities, logits"), raw.stdout)
        let rawText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/raw.onnx")), as: UTF8.self)
        for key in ["STFT", "frontend.window", "frontend.mel_filterbank_t", "frontend.dct_t", "lem.input"] { XCTAssertTrue(rawText.contains(key), key) }

        // A file --save-features cannot take (a recording, not a clip) leaves no features file behind.
        let long = dir + "/long.wav"
        try writeWAV(path: long, samples: (0..<48000).map { Float(sin(Double($0) * 0.05)) * 0.2 }, sampleRate: 16000)
        try FileManager.default.copyItem(atPath: clips[0], toPath: dir + "/copy.wav")
        let r = try runTool("kws", ["classify", "--checkpoint", ckpt, "--save-features", dir + "/y.npy", dir + "/copy.wav", long])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("not written"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/y.npy"))

        // The other tool's checkpoint is refused with the tool to use.
        try "w0 w1 w2 w0 w1\n w2 w1 w0\n".write(toFile: dir + "/ptb.train.txt", atomically: true, encoding: .utf8)
        try "w0 w1\n".write(toFile: dir + "/ptb.valid.txt", atomically: true, encoding: .utf8)
        try "w1 w2\n".write(toFile: dir + "/ptb.test.txt", atomically: true, encoding: .utf8)
        let lm = try runTool("lm", ["train", "--data", dir, "--checkpoint", dir + "/lm.ckpt", "--hidden", "4", "--embedding", "4",
                                    "--batch", "1", "--bptt", "2", "--epochs", "1"])
        XCTAssertEqual(lm.status, 0, lm.stderr)
        let wrongKind = try runTool("kws", ["export", "--checkpoint", dir + "/lm.ckpt"])
        XCTAssertNotEqual(wrongKind.status, 0)
        XCTAssertTrue(wrongKind.stderr.contains("this is a lm checkpoint, not a kws checkpoint"), wrongKind.stderr)
    }
}

import Foundation
import ToolTestSupport
import XCTest
import LEMModel

/// Bad input gets a one-line error naming the file or flag and a non-zero exit, never a trap.
final class LMBadInputTests: XCTestCase {
    func assertFails(_ arguments: [String], _ phrase: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runTool("lm", arguments)
        XCTAssertNotEqual(r.status, 0, "expected failure: lm \(arguments.joined(separator: " "))", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(phrase), "expected “\(phrase)” in stderr:\n\(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error") || r.stderr.contains("Stack dump"), "trap: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.status == 1 || r.status == 64, "exit status \(r.status)", file: file, line: line)
    }

    func corpus() -> String {
        let dir = makeTemporaryDirectory()
        for name in ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"] {
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(" a b c a b \n b c a \n".utf8))
        }
        return dir
    }

    func testHelpExplainsItselfWithExamples() throws {
        for args in [["--help"], ["train", "--help"], ["eval", "--help"], ["sample", "--help"], ["plot", "--help"]] {
            let r = try runTool("lm", args)
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.contains("Example") || r.stdout.contains("lm train"), "no example in lm \(args):\n\(r.stdout)")
            // An example wider than the help's 80 columns is wrapped, leaving its `\` on a line of its own.
            XCTAssertFalse(r.stdout.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "\\" }, r.stdout)
        }
    }

    func testBadCorpora() throws {
        let empty = makeTemporaryDirectory()
        try assertFails(["train", "--data", empty + "/missing", "--checkpoint", empty + "/x.ckpt"], "no such directory")
        try assertFails(["train", "--data", empty, "--checkpoint", empty + "/x.ckpt"], "missing ptb.train.txt")
        let dir = corpus()
        _ = FileManager.default.createFile(atPath: dir + "/ptb.valid.txt", contents: Data())
        try assertFails(["train", "--data", dir, "--checkpoint", dir + "/x.ckpt"], "ptb.valid.txt: the file is empty")
        _ = FileManager.default.createFile(atPath: dir + "/ptb.valid.txt", contents: Data([0x61, 0x20, 0xC3, 0x28, 0x0A]))
        try assertFails(["train", "--data", dir, "--checkpoint", dir + "/x.ckpt"], "ptb.valid.txt: not valid UTF-8")
    }

    func testBadFlags() throws {
        let dir = corpus()
        try assertFails(["train", "--data", dir, "--bptt", "50", "--batch", "2", "--checkpoint", dir + "/x.ckpt"], "--bptt 50 is longer than the data")
        try assertFails(["train", "--data", dir, "--hidden", "-3"], "--hidden")
        try assertFails(["train", "--data", dir, "--dropout", "1.5"], "--dropout must be in [0, 1)")
        try assertFails(["train", "--data", dir, "--lr", "0"], "--lr must be positive")
        try assertFails(["train", "--data", dir, "--embedding", "10", "--hidden", "12", "--tied"], "tied weights need the embedding size (10) to equal the hidden size (12)")
        try assertFails(["train", "--data", dir, "--train", "x"], "either --data or --train")
        try assertFails(["sample", "--checkpoint", dir + "/none.ckpt", "--temperature", "0"], "--temperature must be positive")
        try assertFails(["sample", "--checkpoint", dir + "/none.ckpt", "--temperature=-1"], "--temperature must be positive")
        try assertFails(["sample", "--checkpoint", dir + "/none.ckpt"], "none.ckpt: cannot open")
    }

    func testBadCheckpoints() throws {
        let dir = corpus()
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--hidden", "4", "--batch", "1", "--bptt", "3", "--epochs", "1"]).status, 0)

        // A checkpoint of the other tool.
        let kws = SequenceClassifier(config: SequenceClassifierConfig(inputSize: 2, hiddenSize: 3, classCount: 2))
        try Checkpoint(kind: "kws", model: kws.config, tool: ["labels": ["x", "y"]], parameters: kws.parameters).write(to: dir + "/kws.ckpt")
        try assertFails(["eval", "--checkpoint", dir + "/kws.ckpt", "--data", dir], "this is a kws checkpoint, not a lm checkpoint")
        // A newer format version.
        var newer = try SafeTensorsFile.read(path: ckpt)
        newer.metadata["format_version"] = "7"
        try newer.write(atomicallyTo: dir + "/newer.ckpt")
        try assertFails(["sample", "--checkpoint", dir + "/newer.ckpt"], "newer version of lem")
        // Truncated and corrupted.
        let bytes = FileManager.default.contents(atPath: ckpt)!
        _ = FileManager.default.createFile(atPath: dir + "/cut.ckpt", contents: bytes.prefix(bytes.count - 10))
        try assertFails(["eval", "--checkpoint", dir + "/cut.ckpt", "--data", dir], "cut.ckpt: truncated")
        var flipped = bytes
        flipped[flipped.count - 5] ^= 1
        _ = FileManager.default.createFile(atPath: dir + "/flip.ckpt", contents: flipped)
        try assertFails(["eval", "--checkpoint", dir + "/flip.ckpt", "--data", dir], "corrupt")
        // Vocabulary mismatch: text with tokens the model never saw, and no <unk>.
        _ = FileManager.default.createFile(atPath: dir + "/other.txt", contents: Data(" a zebra q \n".utf8))
        try assertFails(["eval", "--checkpoint", ckpt, "--file", dir + "/other.txt"], "other.txt: 2 token(s) are not in the model's vocabulary")
        try assertFails(["sample", "--checkpoint", ckpt, "--prime", "zebra"], "--prime: 1 token(s) are not in the model's vocabulary")
    }
}

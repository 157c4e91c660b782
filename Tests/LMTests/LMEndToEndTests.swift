import Foundation
import ToolTestSupport
import XCTest
import LEMModel
import Text

/// End-to-end behaviour of `lm` on tiny generated corpora, through the built binary.
final class LMEndToEndTests: XCTestCase {
    /// A word corpus that needs memory across BPTT windows: lines " a b b b " and " a c c c "
    /// alternate. What follows each "a" is decided by the previous line, 5 tokens back, while a
    /// BPTT window of 2 inputs only ever shows "<eos> a" or "a": without the state carried from
    /// window to window every "a" is a coin flip, so perplexity cannot go below 2^(1/10) ≈ 1.072.
    /// Everything else is determined by the current line.
    func writeAlternatingCorpus(_ dir: String, repeats: Int) {
        let line = " a b b b \n a c c c \n"
        for (name, n) in [("ptb.train.txt", repeats), ("ptb.valid.txt", 2), ("ptb.test.txt", 2)] {
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(String(repeating: line, count: n).utf8))
        }
    }

    func testTinyModelLearnsASequenceThatNeedsMemoryAcrossWindows() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 60)
        let ckpt = dir + "/m.ckpt"
        let r = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--hidden", "32", "--batch", "4", "--bptt", "2",
                                   "--dropout", "0", "--lr-decay", "1", "--epochs", "25", "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let eval = try runTool("lm", ["eval", "--checkpoint", ckpt, "--data", dir, "--split", "test", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let ppl = object["perplexity"] as! Double
        print("alternating-lines corpus: test perplexity \(ppl) (without memory across windows ≥ 1.072)")
        XCTAssertLessThan(ppl, 1.03)
        XCTAssertEqual(object["tokens"] as? Int, 2 * 10)
        XCTAssertEqual(object["split"] as? String, "test")
    }

    /// `lm eval --logit-scale S` multiplies the logits (lamb's convention); its old name
    /// `--temperature` still works, gives the same figure and says it is deprecated, since
    /// `lm sample --temperature` divides them.
    func testEvalLogitScaleAndItsDeprecatedName() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 6)
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--hidden", "8", "--batch", "2", "--bptt", "5",
                                          "--epochs", "1"]).status, 0)
        func perplexity(_ flags: [String]) throws -> (Double, String) {
            let r = try runTool("lm", ["eval", "--checkpoint", ckpt, "--data", dir, "--split", "valid", "--json"] + flags)
            XCTAssertEqual(r.status, 0, r.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            return (object["perplexity"] as! Double, r.stderr)
        }
        let (plain, _) = try perplexity([])
        let (scaled, quiet) = try perplexity(["--logit-scale", "0.5"])
        let (old, warned) = try perplexity(["--temperature", "0.5"])
        print("logit scale 1: ppl \(plain); 0.5: \(scaled); deprecated --temperature 0.5: \(old)")
        XCTAssertNotEqual(plain, scaled)
        XCTAssertEqual(scaled, old)
        XCTAssertFalse(quiet.contains("deprecated"))
        XCTAssertTrue(warned.contains("--temperature is deprecated"), warned)
        let both = try runTool("lm", ["eval", "--checkpoint", ckpt, "--data", dir, "--logit-scale", "0.5", "--temperature", "0.5"])
        XCTAssertNotEqual(both.status, 0)
        XCTAssertTrue(both.stderr.contains("give --logit-scale only"), both.stderr)
    }

    func testEvalPerplexityEqualsExpOfIndependentlyComputedMeanNLL() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 6)
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--hidden", "8", "--batch", "2", "--bptt", "5",
                                          "--epochs", "1"]).status, 0)
        let eval = try runTool("lm", ["eval", "--checkpoint", ckpt, "--data", dir, "--split", "valid", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let reported = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any])["perplexity"] as! Double

        // Independently: one token at a time through the model, log-softmax in Double.
        let checkpoint = try Checkpoint.read(path: ckpt, expectedKind: "lm")
        let model = LanguageModel(config: try checkpoint.model(LanguageModelConfig.self))
        try checkpoint.loadParameters(into: model.parameters)
        struct Tool: Decodable { let vocabulary: Vocabulary }
        let vocabulary = try checkpoint.tool(Tool.self).vocabulary
        let tokens = try LanguageCorpus.encode(file: dir + "/ptb.valid.txt", level: .word, vocabulary: vocabulary)
        var state = RecurrentState(batch: 1, hiddenSize: model.config.hiddenSize)
        var previous = vocabulary.id("<eos>")!
        var nll = 0.0
        for t in tokens {
            let logits = model.nextTokenLogits(after: &previous, batch: 1, state: &state)
            let row = (0..<vocabulary.count).map { Double(logits[$0]) }
            let m = row.max()!
            nll += m + log(row.map { exp($0 - m) }.reduce(0, +)) - row[Int(t)]
            previous = t
        }
        let expected = exp(nll / Double(tokens.count))
        print("lm eval perplexity \(reported), independent \(expected), tokens \(tokens.count)")
        XCTAssertEqual(reported, expected, accuracy: 1e-4 * expected)
    }

    func testSamplingIsReproducibleAndReadable() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 6)
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--hidden", "8", "--batch", "2", "--bptt", "5", "--epochs", "1"]).status, 0)
        let a = try runTool("lm", ["sample", "--checkpoint", ckpt, "--length", "40", "--seed", "5", "--prime", "a b"])
        let b = try runTool("lm", ["sample", "--checkpoint", ckpt, "--length", "40", "--seed", "5", "--prime", "a b"])
        let c = try runTool("lm", ["sample", "--checkpoint", ckpt, "--length", "40", "--seed", "6", "--prime", "a b", "--top-k", "2", "--temperature", "0.5"])
        XCTAssertEqual(a.status, 0, a.stderr)
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(a.stdout, b.stdout, "same seed, same text")
        XCTAssertTrue(a.stdout.hasPrefix("a b"), a.stdout)
        XCTAssertFalse(a.stdout.contains("<eos>"), "line ends are printed as line breaks")
        XCTAssertTrue(Set(a.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })).isSubset(of: ["a", "b", "c"]))
    }

    func testInterruptedTrainingResumesToTheSameModel() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 10)
        let common = ["train", "--data", dir, "--hidden", "8", "--batch", "2", "--bptt", "4", "--epochs", "2", "--dropout", "0.2",
                      "--dropout-state", "0.1", "--seed", "9"]
        XCTAssertEqual(try runTool("lm", common + ["--checkpoint", dir + "/straight.ckpt"]).status, 0)
        let first = try runTool("lm", common + ["--checkpoint", dir + "/split.ckpt", "--max-steps", "13"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("resumable state saved"), first.stderr)
        let second = try runTool("lm", common + ["--checkpoint", dir + "/split.ckpt", "--resume"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let straight = FileManager.default.contents(atPath: dir + "/straight.ckpt")
        XCTAssertNotNil(straight)
        XCTAssertEqual(straight, FileManager.default.contents(atPath: dir + "/split.ckpt"), "best checkpoints differ after resume")
        // The final resumable states hold the same tensors (parameters, Adam moments, carried state)
        // and the same progress; only the wall-clock time spent differs.
        let a = try Checkpoint.read(path: dir + "/straight.ckpt.resume", expectedKind: "lm")
        let b = try Checkpoint.read(path: dir + "/split.ckpt.resume", expectedKind: "lm")
        XCTAssertEqual(a.file.names, b.file.names)
        for name in a.file.names { XCTAssertEqual(a.file.tensors[name], b.file.tensors[name], "tensor \(name) differs") }
        var (pa, pb) = (try a.trainingProgress()!, try b.trainingProgress()!)
        (pa.elapsedSeconds, pb.elapsedSeconds) = (0, 0)
        XCTAssertEqual(pa, pb)
    }
}

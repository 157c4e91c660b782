import Foundation
import ToolTestSupport
import XCTest
import LEMModel

/// `--cell` and `--layers` through the built `lm`: train → eval → sample with the settings read
/// from the checkpoint, PyTorch's tensor names in it, memory across BPTT windows in every layer,
/// and clear errors for contradicting or bad flags.
final class LMCellTests: XCTestCase {
    func writeAlternatingCorpus(_ dir: String, repeats: Int) {
        let line = " a b b b \n a c c c \n"
        for (name, n) in [("ptb.train.txt", repeats), ("ptb.valid.txt", 2), ("ptb.test.txt", 2)] {
            _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(String(repeating: line, count: n).utf8))
        }
    }

    func testEveryCellAndStackTrainsEvaluatesAndSamples() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 6)
        let expectedNames: [String: [String]] = [
            "lem": ["lem.inp2hid.weight", "lem_l1.inp2hid.weight", "lem_l1.transform_z.bias"],
            "lstm": ["rnn.weight_ih_l0", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l0"],
            "gru": ["rnn.weight_ih_l0", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l0"],
            "lru": ["layers.0.norm.weight", "layers.0.lru.nu_log", "layers.1.lru.B_im", "layers.1.out2.bias"],
        ]
        for cell in CellKind.allCases {
            let ckpt = dir + "/\(cell.rawValue).ckpt"
            let train = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--cell", cell.rawValue, "--layers", "2",
                                           "--dropout-layer", "0.1", "--hidden", "8", "--batch", "2", "--bptt", "4", "--epochs", "1"])
            XCTAssertEqual(train.status, 0, train.stderr)
            XCTAssertTrue(train.stderr.contains("2 × \(cell.displayName) hidden 8"), train.stderr)
            let checkpoint = try Checkpoint.read(path: ckpt, expectedKind: "lm")
            let config = try checkpoint.model(LanguageModelConfig.self)
            XCTAssertEqual(config.cell, cell)
            XCTAssertEqual(config.layers, 2)
            XCTAssertEqual(config.layerDropout, 0.1)
            for name in expectedNames[cell.rawValue]! { XCTAssertNotNil(checkpoint.file.tensors[name], "\(cell): \(name)") }
            let model = try checkpoint.languageModel()
            XCTAssertEqual(model.config, config)

            let eval = try runTool("lm", ["eval", "--checkpoint", ckpt, "--data", dir, "--split", "test", "--json"])
            XCTAssertEqual(eval.status, 0, eval.stderr)
            let ppl = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any])["perplexity"] as! Double
            XCTAssertTrue(ppl.isFinite && ppl > 1, "\(cell): perplexity \(ppl)")
            let sample = try runTool("lm", ["sample", "--checkpoint", ckpt, "--length", "12", "--seed", "4"])
            XCTAssertEqual(sample.status, 0, sample.stderr)
            XCTAssertFalse(sample.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
            let again = try runTool("lm", ["sample", "--checkpoint", ckpt, "--length", "12", "--seed", "4"])
            XCTAssertEqual(again.stdout, sample.stdout, "\(cell): sampling is reproducible")
            print("lm --cell \(cell.rawValue) --layers 2: test perplexity \(ppl); sample: \(sample.stdout.prefix(60))")
        }
    }

    /// The alternating-lines corpus of `LMEndToEndTests` needs the state of both layers carried
    /// from window to window: without it perplexity stays ≥ 1.072.
    func carriesItsStateAcrossWindows(cell: String, lr: String) throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 60)
        let ckpt = dir + "/m.ckpt"
        let r = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--cell", cell, "--layers", "2", "--hidden", "24",
                                   "--batch", "4", "--bptt", "2", "--dropout", "0", "--lr", lr, "--lr-decay", "1", "--epochs", "25", "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let eval = try runTool("lm", ["eval", "--checkpoint", ckpt, "--data", dir, "--split", "test", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let ppl = (try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any])["perplexity"] as! Double
        print("alternating-lines corpus, 2-layer \(cell.uppercased()): test perplexity \(ppl) (without memory across windows ≥ 1.072)")
        XCTAssertLessThan(ppl, 1.03)
    }

    func testStackedLSTMCarriesItsStateAcrossWindows() throws { try carriesItsStateAcrossWindows(cell: "lstm", lr: "0.02") }

    /// The LRU's complex state rides in the cell-state slot from window to window.
    func testStackedLRUCarriesItsStateAcrossWindows() throws { try carriesItsStateAcrossWindows(cell: "lru", lr: "0.005") }

    func testContradictingAndBadFlagsAreRefused() throws {
        let dir = makeTemporaryDirectory()
        writeAlternatingCorpus(dir, repeats: 6)
        let ckpt = dir + "/m.ckpt"
        let stopped = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--cell", "gru", "--hidden", "8", "--batch", "2",
                                         "--bptt", "4", "--epochs", "2", "--max-steps", "2"])
        XCTAssertEqual(stopped.status, 0, stopped.stderr)
        func fails(_ arguments: [String], _ phrase: String, line: UInt = #line) throws {
            let r = try runTool("lm", arguments)
            XCTAssertTrue(r.status == 1 || r.status == 64, "exit status \(r.status) for \(arguments)", line: line)
            XCTAssertTrue(r.stderr.contains(phrase), "expected “\(phrase)” in:\n\(r.stderr)", line: line)
            XCTAssertFalse(r.stderr.contains("Fatal error"), line: line)
        }
        try fails(["train", "--data", dir, "--checkpoint", ckpt, "--resume", "--cell", "lstm"], "it holds a gru model, not --cell lstm")
        try fails(["train", "--data", dir, "--checkpoint", ckpt, "--resume", "--layers", "3"], "it holds 1 layer(s), not --layers 3")
        try fails(["train", "--data", dir, "--layers", "0"], "--layers must be from 1 to 16")
        try fails(["train", "--data", dir, "--cell", "rnn"], "--cell")
        try fails(["train", "--data", dir, "--dropout-layer", "1"], "--dropout-layer must be in [0, 1)")
        try fails(["train", "--data", dir, "--cell", "gru", "--dt", "0.5"], "--dt is the LEM's time step")
        // Flags that agree with the checkpoint resume it.
        let resumed = try runTool("lm", ["train", "--data", dir, "--checkpoint", ckpt, "--resume", "--cell", "gru", "--layers", "1"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
    }
}

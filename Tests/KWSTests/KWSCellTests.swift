import Foundation
import ToolTestSupport
import XCTest
import LEMModel

/// `--cell` and `--layers` through the built `kws`: train → eval → classify with the settings read
/// from the checkpoint, and a resume with a contradicting cell refused.
final class KWSCellTests: XCTestCase {
    func testEveryCellAndStackTrainsEvaluatesAndClassifies() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 6)
        for cell in CellKind.allCases {
            let ckpt = dir + "/\(cell.rawValue).ckpt"
            let train = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--cell", cell.rawValue, "--layers", "2",
                                            "--dropout-layer", "0.1", "--hidden", "6", "--batch", "8", "--epochs", "1"])
            XCTAssertEqual(train.status, 0, train.stderr)
            XCTAssertTrue(train.stderr.contains("2 × \(cell.displayName) hidden 6"), train.stderr)
            let config = try Checkpoint.read(path: ckpt, expectedKind: "kws").model(SequenceClassifierConfig.self)
            XCTAssertEqual(config.cell, cell)
            XCTAssertEqual(config.layers, 2)
            let eval = try runTool("kws", ["eval", "--checkpoint", ckpt, "--data", dir + "/data", "--split", "all", "--json"])
            XCTAssertEqual(eval.status, 0, eval.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
            XCTAssertGreaterThan(object["count"] as! Int, 0)
            let classify = try runTool("kws", ["classify", "--checkpoint", ckpt, dir + "/data/yes/00001000_nohash_0.wav", "--json"])
            XCTAssertEqual(classify.status, 0, classify.stderr)
            let line = try JSONSerialization.jsonObject(with: Data(classify.stdout.utf8)) as! [String: Any]
            XCTAssertNotNil(line["label"] as? String)
            print("kws --cell \(cell.rawValue) --layers 2: accuracy \(object["accuracy"]!), classify \(line["label"]!) \(line["probability"]!)")
        }
    }

    func testResumeWithAnotherCellIsRefused() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 6)
        let ckpt = dir + "/m.ckpt"
        XCTAssertEqual(try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--cell", "lstm", "--hidden", "4",
                                           "--batch", "8", "--epochs", "2", "--max-steps", "1"]).status, 0)
        let r = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--resume", "--cell", "lem"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("it holds a lstm model, not --cell lem"), r.stderr)
        let bad = try runTool("kws", ["train", "--data", dir + "/data", "--layers", "17"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--layers must be from 1 to 16"), bad.stderr)
    }
}

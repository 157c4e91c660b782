import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `kws eval --protocol tf|lem`: TensorFlow's split (generated silence, unknown subsampled by the
/// checkpoint's percentages) against the authors' (every listed clip, non-keywords as unknown,
/// no silence), counted on the tone corpus whose test list holds 2 clips of each of yes, no, up
/// and bed (an unknown word).
final class KWSProtocolTests: XCTestCase {
    func testTheTwoProtocolsCountDifferentClips() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 12)
        let ckpt = dir + "/p.ckpt"
        let train = try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "4", "--epochs", "1", "--batch", "8",
                                        "--unknown-percentage", "20"])
        XCTAssertEqual(train.status, 0, train.stderr)
        func counts(_ p: String) throws -> (total: Int, silence: Int, unknown: Int) {
            let r = try runTool("kws", ["eval", "--checkpoint", ckpt, "--data", dir + "/data", "--protocol", p, "--json", "--confusion-svg", "none"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            XCTAssertEqual(object["protocol"] as? String, p)
            let confusion = object["confusion"] as! [[Int]]
            return (object["count"] as! Int, confusion[0].reduce(0, +), confusion[1].reduce(0, +))
        }
        let tf = try counts("tf"), lem = try counts("lem")
        print("test clips counted: tf \(tf), lem \(lem)")
        // 6 keyword clips; tf: ⌈10 % · 6⌉ = 1 generated silence and ⌈20 % · 6⌉ = 2 of the 2 bed clips.
        XCTAssertEqual(tf.silence, 1)
        XCTAssertEqual(lem.silence, 0, "the authors' test folders hold no silence")
        XCTAssertEqual(lem.unknown, 2, "every listed non-keyword clip")
        XCTAssertEqual(lem.total, 8)
        XCTAssertEqual(tf.total, 6 + tf.silence + tf.unknown)
    }
}

import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `adding train` through the built binary, on the shared training run: the curve, the
/// checkpoint, a run continued in a second chunk, and bad flags refused with a message.
final class AddingCommandTests: XCTestCase {
    let common = ["train", "--cell", "gru", "--length", "12", "--hidden", "8", "--batch", "8", "--eval-every", "3", "--test-size", "16"]

    /// The parameters (and Adam moments) of a resumable checkpoint, tensor by tensor.
    func state(_ path: String) throws -> [String: [Float]] {
        let c = try Checkpoint.read(path: path, expectedKind: "adding")
        var out: [String: [Float]] = [:]
        for name in c.file.names { out[name] = try c.file.floats(name) }
        return out
    }

    func testTrainsWritesTheCurveAndContinuesInChunksExactly() throws {
        let dir = makeTemporaryDirectory()
        // Straight through: 9 steps, evaluated every 3.
        let straight = try runTool("adding", common + ["--steps", "9", "--checkpoint", dir + "/a.ckpt", "--csv", dir + "/a.csv"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let rows = try String(contentsOfFile: dir + "/a.csv", encoding: .utf8).split(separator: "\n")
        print(rows.joined(separator: "\n"))
        XCTAssertEqual(rows.first, "step,minutes,test_mse")
        XCTAssertEqual(rows.dropFirst().map { $0.split(separator: ",")[0] }, ["0", "3", "6", "9"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/a.ckpt.curve.svg"))
        XCTAssertTrue(straight.stdout.contains("best valid test MSE"), straight.stdout)

        // The same run in two chunks: 3 steps, then on to 9 with --resume.
        let first = try runTool("adding", common + ["--steps", "3", "--checkpoint", dir + "/b.ckpt"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let second = try runTool("adding", common + ["--steps", "9", "--checkpoint", dir + "/b.ckpt", "--resume", "--csv", dir + "/b.csv"])
        XCTAssertEqual(second.status, 0, second.stderr)
        let (a, b) = (try state(dir + "/a.ckpt.resume"), try state(dir + "/b.ckpt.resume"))
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, values) in a { XCTAssertEqual(values, b[name], name) }
        let chunked = try String(contentsOfFile: dir + "/b.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(chunked.map { $0.split(separator: ",").enumerated().filter { $0.offset != 1 }.map(\.element) },
                       rows.map { $0.split(separator: ",").enumerated().filter { $0.offset != 1 }.map(\.element) },
                       "the same test MSE at every step (the minutes differ)")
    }

    func testBadFlagsAreRefused() throws {
        let r = try runTool("adding", ["train", "--steps", "10", "--eval-every", "3"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--steps 10 must be a multiple of --eval-every 3"), r.stderr)
        let missing = try runTool("adding", common + ["--steps", "3", "--checkpoint", makeTemporaryDirectory() + "/none.ckpt", "--resume"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("none.ckpt.resume"), missing.stderr)
    }
}

import Foundation
import ToolTestSupport
import XCTest

/// `seq online` through the built binary: a known linear system and a labelled stream learnt online
/// to a stated error and accuracy, memory that does not grow with the stream, both input formats,
/// and bad input refused.
final class SeqOnlineTests: XCTestCase {
    func toolPath(_ name: String) -> String { productsDirectory().appendingPathComponent(name).path }

    /// A shell pipeline (the stream piped from one tool into the other).
    func runShell(_ command: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", command]
        return try runToCompletion(process)
    }

    func reports(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// x' = 0.98·R(0.3)·x + 0.1·ε: the best one-step prediction leaves 0.01 per value. Learnt
    /// online from nothing, the last 4,000 of 20,000 steps must come within 2× of it and beat
    /// predicting "no change" (≈ 0.03).
    func testLearnsAKnownLinearSystemOnline() throws {
        let dir = makeTemporaryDirectory()
        let make = try runTool("seq", ["make-data", "linear", "--steps", "20000", "--out", dir + "/linear.txt", "--seed", "3"])
        XCTAssertEqual(make.status, 0, make.stderr)
        let r = try runTool("seq", ["online", dir + "/linear.txt", "--report-every", "4000", "--json", "--plot", dir + "/curve.svg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try reports(r.stdout)
        let last = try XCTUnwrap(lines.last { $0["event"] as? String == "report" })
        let (mse, still) = (last["mse"] as! Double, last["persistence_mse"] as! Double)
        print("seq online, linear system: prequential MSE over the last 4,000 steps \(mse) (best possible 0.01, tolerance 0.02); no change \(still)")
        XCTAssertLessThan(mse, 0.02)
        XCTAssertLessThan(mse, 0.75 * still)
        let summary = try XCTUnwrap(lines.last)
        XCTAssertEqual(summary["event"] as? String, "summary")
        XCTAssertEqual(summary["steps"] as? Int, 20000)
        XCTAssertEqual(summary["updates"] as? Int, 999, "one update per 20 (input, target) pairs")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/curve.svg"))
    }

    /// The same learner over 4,000 and over 40,000 steps of a stream piped in: the peak memory
    /// does not grow with the stream (one window is kept).
    func testMemoryDoesNotGrowWithTheStream() throws {
        var peaks: [Double] = []
        for steps in [4000, 40000] {
            let r = try runShell("\(toolPath("seq")) make-data switching --steps \(steps) --period 1000 --out - | \(toolPath("seq")) online - --hidden 8 --report-every 1000 --json")
            XCTAssertEqual(r.status, 0, r.stderr)
            let summary = try XCTUnwrap(try reports(r.stdout).last)
            XCTAssertEqual(summary["steps"] as? Int, steps)
            peaks.append(summary["peak_rss_mb"] as! Double)
        }
        print("seq online: peak memory \(peaks[0]) MB over 4,000 steps, \(peaks[1]) MB over 40,000 (tolerance +4 MB)")
        XCTAssertLessThan(peaks[1], peaks[0] + 4)
    }

    /// A labelled stream (`make-data switching --labels`: which of two rotations produced each
    /// point, switching every 1,000 steps) learnt online: the last 5,000 of 30,000 steps must be
    /// classified at ≥ 90 % before each label is seen (chance and the most frequent class: 50 %).
    func testLearnsALabelledStreamOnline() throws {
        let dir = makeTemporaryDirectory()
        let make = try runTool("seq", ["make-data", "switching", "--labels", "--period", "1000", "--steps", "30000", "--out", dir + "/labels.txt", "--seed", "3"])
        XCTAssertEqual(make.status, 0, make.stderr)
        let r = try runTool("seq", ["online", dir + "/labels.txt", "--classes", "2", "--cell", "gru", "--hidden", "16", "--lr", "0.01",
                                    "--report-every", "5000", "--json", "--plot", dir + "/accuracy.svg"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try reports(r.stdout)
        let last = try XCTUnwrap(lines.last { $0["event"] as? String == "report" })
        let (accuracy, majority) = (last["accuracy"] as! Double, last["majority_accuracy"] as! Double)
        print("seq online, labelled switching stream: prequential accuracy over the last 5,000 steps \(accuracy) (tolerance ≥ 0.9); most frequent class \(majority)")
        XCTAssertGreaterThanOrEqual(accuracy, 0.9)
        XCTAssertLessThan(majority, 0.6)
        XCTAssertNotNil(last["cross_entropy"] as? Double)
        let summary = try XCTUnwrap(lines.last)
        XCTAssertEqual(summary["classes"] as? Int, 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/accuracy.svg"))
        try "0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,2\n".write(toFile: dir + "/bad-label.txt", atomically: true, encoding: .utf8)
        let bad = try runTool("seq", ["online", dir + "/bad-label.txt", "--classes", "2"])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("bad-label.txt: vector 3: its last value 2.0 is not a class (an integer from 0 to 1: --classes 2)"), bad.stderr)
        let noRegimes = try runTool("seq", ["make-data", "linear", "--labels", "--out", dir + "/x.txt"])
        XCTAssertTrue(noRegimes.stderr.contains("--labels needs a stream with regimes: switching or fhn-drift (got linear)"), noRegimes.stderr)
        try "0.1,0.2,0.5\n".write(toFile: dir + "/half.txt", atomically: true, encoding: .utf8)
        let half = try runTool("seq", ["online", dir + "/half.txt", "--classes", "2"])
        XCTAssertTrue(half.stderr.contains("vector 1: its last value 0.5 is not a class"), half.stderr)
    }

    func testRawFloat32AndBadInput() throws {
        let dir = makeTemporaryDirectory()
        var raw = Data()
        for t in 0..<300 { for v in [Float(sin(Double(t) * 0.2)), Float(cos(Double(t) * 0.2))] { withUnsafeBytes(of: v.bitPattern.littleEndian) { raw.append(contentsOf: $0) } } }
        try raw.write(to: URL(fileURLWithPath: dir + "/s.f32"))
        let ok = try runTool("seq", ["online", dir + "/s.f32", "--format", "f32", "--features", "2", "--report-every", "100", "--json"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(try reports(ok.stdout).last?["steps"] as? Int, 300)
        try Data(raw.prefix(10)).write(to: URL(fileURLWithPath: dir + "/cut.f32"))
        func fails(_ arguments: [String], _ phrase: String, line: UInt = #line) throws {
            let r = try runTool("seq", arguments)
            XCTAssertTrue(r.status == 1 || r.status == 64, "exit status \(r.status)", line: line)
            XCTAssertTrue(r.stderr.contains(phrase), "expected “\(phrase)” in:\n\(r.stderr)", line: line)
        }
        try fails(["online", dir + "/cut.f32", "--format", "f32", "--features", "2"], "ends inside a vector (2 of 8 bytes)")
        try "1,2\n3,4\n5,x\n".write(toFile: dir + "/bad.txt", atomically: true, encoding: .utf8)
        try fails(["online", dir + "/bad.txt"], "bad.txt: line 3: value 2 \"x\" is not a finite number")
        try "1,2\n3\n".write(toFile: dir + "/short.txt", atomically: true, encoding: .utf8)
        try fails(["online", dir + "/short.txt"], "short.txt: line 2: 1 values, expected 2")
        try fails(["online", dir + "/none.txt"], "none.txt: cannot open it for reading")
        try fails(["online", dir + "/s.f32", "--format", "f32"], "--format f32 needs --features")
    }
}

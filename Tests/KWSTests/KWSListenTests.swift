import Audio
import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// `kws listen`: raw PCM on standard input, delivered in chunks of odd sizes, gives the same
/// detections as the same audio given as a file; a stream that ends inside a frame, or a channel
/// count that does not fit the data, gets a clear error.
final class KWSListenTests: XCTestCase {
    /// Runs `kws listen … -` with `bytes` written to its standard input in `chunk`-byte pieces.
    func listen(stdin bytes: [UInt8], chunk: Int, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = productsDirectory().appendingPathComponent("kws")
        process.arguments = ["listen"] + arguments + ["-"]
        return try runToCompletion(process) { stdin in
            var offset = 0
            while offset < bytes.count {
                let n = min(chunk, bytes.count - offset)
                stdin.write(Data(bytes[offset ..< offset + n]))
                offset += n
            }
        }
    }

    /// Detections without the latency (which differs from run to run).
    func detections(_ jsonLines: String) -> [String] {
        jsonLines.split(separator: "\n").map { line in
            var object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            object["latency_ms"] = nil
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    func testStandardInputInOddChunksEqualsTheFile() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 18)
        let ckpt = dir + "/t.ckpt"
        // The settings with which KWSEndToEndTests' tone model separates the classes.
        XCTAssertEqual(try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "16", "--batch", "4", "--epochs", "25",
                                           "--lr", "0.01", "--lr-decay", "1", "--all-unknown", "--seed", "2"]).status, 0)
        XCTAssertEqual(try runTool("kws", ["make-stream", "--data", dir + "/data", "--minutes", "0.3", "--out", dir + "/s.wav"]).status, 0)
        let samples = try readAudio(path: dir + "/s.wav").samples
        let pcm = samples.flatMap { v -> [UInt8] in
            let s = UInt16(bitPattern: Int16(max(-32768, min(32767, (v * 32768).rounded()))))
            return [UInt8(s & 0xFF), UInt8(s >> 8)]
        }
        let options = ["--checkpoint", ckpt, "--json", "--threshold", "0.3", "--average-ms", "300"]
        let fromFile = try runTool("kws", ["listen"] + options + [dir + "/s.wav"])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertTrue(fromFile.stderr.contains("18.0 s of audio"), fromFile.stderr)
        for chunk in [1001, 4097, 3] {
            let fromPipe = try listen(stdin: chunk == 3 ? Array(pcm.prefix(32000 * 2)) : pcm, chunk: chunk, options)
            XCTAssertEqual(fromPipe.status, 0, fromPipe.stderr)
            if chunk != 3 {
                XCTAssertEqual(detections(fromPipe.stdout), detections(fromFile.stdout), "chunks of \(chunk) bytes")
            }
        }
        print("listen: \(detections(fromFile.stdout).count) detections from the file and from the pipe")

        // A cut-off last sample, and stereo data read as mono frames of the wrong size.
        let cut = try listen(stdin: Array(pcm.prefix(32001)), chunk: 1000, options)
        XCTAssertNotEqual(cut.status, 0)
        XCTAssertTrue(cut.stderr.contains("ends inside a frame"), cut.stderr)
        let stereo = try listen(stdin: Array(pcm.prefix(32002)), chunk: 999, options + ["--channels", "4"])
        XCTAssertNotEqual(stereo.status, 0)
        XCTAssertTrue(stereo.stderr.contains("frames of 8 bytes"), stereo.stderr)
        let wrongRate = try runTool("kws", ["listen", "--checkpoint", ckpt, "--rate", "44100", "-"])
        XCTAssertNotEqual(wrongRate.status, 0)
        XCTAssertTrue(wrongRate.stderr.contains("the model takes 16000 Hz"), wrongRate.stderr)
    }
}

import Audio
import Foundation
import LEMModel
import ToolTestSupport
import XCTest

/// A long recording is scanned with sliding windows in bounded memory, and keywords are reported
/// with their times.
final class KWSLongRecordingTests: XCTestCase {
    /// Writes a 16-bit mono 16 kHz WAV of `seconds` of low noise, with 400 Hz tones (the tone
    /// corpus's "yes") starting at `tones` seconds, without ever holding the whole signal.
    func writeLongWAV(_ path: String, seconds: Int, tones: [Int]) throws {
        let rate = 16000, total = seconds * rate
        var header = Data()
        func u32(_ v: Int) { var x = UInt32(v).littleEndian; header.append(Data(bytes: &x, count: 4)) }
        func u16(_ v: Int) { var x = UInt16(v).littleEndian; header.append(Data(bytes: &x, count: 2)) }
        header.append(Data("RIFF".utf8)); u32(36 + total * 2); header.append(Data("WAVEfmt ".utf8))
        u32(16); u16(1); u16(1); u32(rate); u32(rate * 2); u16(2); u16(16)
        header.append(Data("data".utf8)); u32(total * 2)
        _ = FileManager.default.createFile(atPath: path, contents: header)
        let handle = FileHandle(forWritingAtPath: path)!
        handle.seekToEndOfFile()
        var rng = RandomGenerator(seed: 8)
        for second in 0..<seconds {
            var block = [Int16](repeating: 0, count: rate)
            let toneStart = tones.first { second >= $0 && second < $0 + 1 }
            for i in 0..<rate {
                var v = rng.normal() * 0.01
                if toneStart != nil { v += 0.4 * Float(sin(2 * Double.pi * 400 * Double(i) / Double(rate))) }
                block[i] = Int16(max(-32767, min(32767, v * 32767)))
            }
            handle.write(block.withUnsafeBufferPointer { Data(buffer: $0) })
        }
        handle.closeFile()
    }

    func testThirtyMinuteRecordingIsScannedInBoundedMemory() throws {
        let dir = makeTemporaryDirectory()
        try makeToneCorpus(dir + "/data", perClass: 18)
        let ckpt = dir + "/tones.ckpt"
        XCTAssertEqual(try runTool("kws", ["train", "--data", dir + "/data", "--checkpoint", ckpt, "--hidden", "16", "--batch", "4",
                                           "--epochs", "25", "--lr", "0.01", "--lr-decay", "1", "--all-unknown", "--seed", "2"]).status, 0)
        let long = dir + "/long.wav"
        let minutes = 30
        try writeLongWAV(long, seconds: minutes * 60, tones: [600, 1500])
        let samplesMB = Double(minutes * 60 * 16000 * 4) / 1e6   // what decoding it whole as Float would take

        let process = Process()
        process.executableURL = productsDirectory().appendingPathComponent("kws")
        process.arguments = ["classify", "--checkpoint", ckpt, long, "--stride-ms", "3000", "--threshold", "0.42", "--json"]
        process.environment = ProcessInfo.processInfo.environment.merging(["LEM_REPORT_PEAK_RSS": "1"]) { $1 }
        let out = dir + "/out.txt", err = dir + "/err.txt"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: out)
        process.standardError = FileHandle(forWritingAtPath: err)
        try process.run()
        process.waitUntilExit()
        let stdout = String(decoding: FileManager.default.contents(atPath: out)!, as: UTF8.self)
        let stderr = String(decoding: FileManager.default.contents(atPath: err)!, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stderr)

        guard let report = stderr.split(separator: "\n").first(where: { $0.hasPrefix("peak RSS") }),
              let peak = Double(report.split(separator: " ")[2]) else { return XCTFail("no peak RSS report:\n\(stderr)") }
        print("30-minute recording: peak RSS \(peak) MB (decoding it whole would need \(samplesMB) MB for the samples alone)")
        XCTAssertLessThan(peak, samplesMB * 0.6, "memory must not grow with the recording")

        let lines = stdout.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        print("detections: \(lines.count) (tones at 600 s and 1500 s)")
        XCTAssertFalse(lines.isEmpty)
        for line in lines where line["start"] != nil {
            let start = line["start"] as! Double, end = line["end"] as! Double
            XCTAssertLessThan(start, end)
            XCTAssertNotNil(line["label"] as? String)
        }
        // The tones at 600 s and 1500 s are found as "yes", near their times.
        for t in [600.0, 1500.0] {
            XCTAssertTrue(lines.contains { ($0["label"] as? String) == "yes" && ($0["start"] as! Double) <= t + 1 && ($0["end"] as! Double) >= t },
                          "no yes detection around \(t) s: \(lines)")
        }
    }
}

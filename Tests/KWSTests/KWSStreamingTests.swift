import Audio
import Foundation
import LEMModel
@testable import KeywordSpotting
import XCTest

/// The streaming post-processing and metrics on hand-made inputs, against hand-computed values.
final class KWSStreamingTests: XCTestCase {
    let labels = ["_silence_", "_unknown_", "yes", "no"]

    /// Posteriors every 100 ms: silence, then "yes" strong for 600 ms, silence, "no" weak, "no" strong.
    func testRecognizerFiresOncePerWordAfterAveraging() {
        var recognizer = CommandRecognizer(labels: labels, threshold: 0.6, averageMs: 300, suppressMs: 500)
        func scores(_ yes: Float, _ no: Float) -> [Float] { [1 - yes - no, 0, yes, no] }
        var timeline: [[Float]] = []
        timeline += Array(repeating: scores(0, 0), count: 10)        // 0.1 … 1.0 s
        timeline += Array(repeating: scores(0.9, 0), count: 6)       // 1.1 … 1.6 s
        timeline += Array(repeating: scores(0, 0), count: 10)        // 1.7 … 2.6 s
        timeline += Array(repeating: scores(0, 0.5), count: 5)       // 2.7 … 3.1 s: below the threshold
        timeline += Array(repeating: scores(0, 0.95), count: 5)      // 3.2 … 3.6 s
        var fired: [Detection] = []
        for (i, s) in timeline.enumerated() {
            if let d = recognizer.process(time: Double(i + 1) * 100, scores: s) { fired.append(d) }
        }
        // Averages over the windows of the last 300 ms, (t − 0.3, t]: yes is 0.6 (not above the
        // threshold) at 1.2 s and 0.9 at 1.3 s, and fires once; no's average is
        // (0.5 + 0.5 + 0.95) / 3 = 0.65 at 3.2 s.
        XCTAssertEqual(fired.map(\.label), ["yes", "no"])
        XCTAssertEqual(fired[0].time, 1.3, accuracy: 1e-9)
        XCTAssertEqual(fired[1].time, 3.2, accuracy: 1e-9)
        XCTAssertEqual(fired[1].score, 0.65, accuracy: 1e-6)
        XCTAssertEqual(fired[0].score, 0.9, accuracy: 1e-6)
    }

    func testMetricsOnAHandMadeDetectionList() {
        let truth = [TruthWord(label: "yes", startMs: 1000, endMs: 2000), TruthWord(label: "no", startMs: 4000, endMs: 5000),
                     TruthWord(label: "_unknown_", startMs: 7000, endMs: 8000), TruthWord(label: "yes", startMs: 10000, endMs: 11000)]
        let detections = [Detection(time: 1.8, label: "yes", score: 0.9),     // matches word 1
                          Detection(time: 2.5, label: "yes", score: 0.8),     // word 1 already matched (and 2.5 < 2.75): false positive
                          Detection(time: 5.6, label: "yes", score: 0.7),     // inside word 2's span + 750 ms, wrong keyword
                          Detection(time: 7.5, label: "no", score: 0.7),      // on an unknown word: false positive
                          Detection(time: 20, label: "no", score: 0.7)]       // nowhere: false positive
        // The second "yes" (10–11 s) is never detected: missed.
        let m = StreamingMetrics(detections: detections, truth: truth, keywords: ["yes", "no"], durationSeconds: 1800, toleranceMs: 750)
        XCTAssertEqual(m.words, 4)
        XCTAssertEqual(m.keywordWords, 3)
        XCTAssertEqual(m.hits, 1)
        XCTAssertEqual(m.confusions, 1)
        XCTAssertEqual(m.otherFalseAlarms, 3)
        XCTAssertEqual(m.misses, 2, "word 2 (detected as yes) and word 4")
        XCTAssertEqual(m.missRate, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.falseAlarmsPerHour, 4 / 0.5, accuracy: 1e-9, "4 false detections in half an hour")
        XCTAssertEqual(m.missRate("yes")!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.missRate("no")!, 1, accuracy: 1e-12)
        XCTAssertEqual(m.falseAlarmsPerHour("yes"), 4, accuracy: 1e-9)
        XCTAssertEqual(m.falseAlarmsPerHour("no"), 4, accuracy: 1e-9)
        // What a hard-negative pass mines: the alarms on the unknown word and on nothing, not the
        // duplicate of word 1 or the wrong keyword on word 2 (those windows hold a keyword).
        XCTAssertEqual(m.falseAlarmsWithoutKeyword.map(\.time), [7.5, 20])
    }

    /// `--save-false-alarms`: each alarm's window and the two before it, cut from the stream as scanned.
    func testFalseAlarmWindowsAreTheStreamsAudio() throws {
        let dir = NSTemporaryDirectory() + "fa-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var rng = RandomGenerator(seed: 8)
        let stream = (0..<(5 * 16000)).map { _ in Float(rng.below(32768) - 16384) / 32768 }   // on the 16-bit grid
        try writeAudio(path: dir + "/s.wav", interleaved: stream, channels: 1, sampleRate: 16000)
        let alarms = [Detection(time: 1.1, label: "yes", score: 0.9), Detection(time: 3.0, label: "no", score: 0.8)]
        let written = try writeFalseAlarmWindows(alarms, stream: dir + "/s.wav", sampleRate: 16000, clip: 16000, strideMs: 100, to: dir + "/fa")
        XCTAssertEqual(written, 2 + 3, "the alarm at 1.1 s has one window before it that starts inside the stream")
        let expected: [(String, Int)] = [("fa-000001100-0", 17600), ("fa-000001100-1", 16000), ("fa-000003000-0", 48000),
                                         ("fa-000003000-1", 46400), ("fa-000003000-2", 44800)]
        for (name, end) in expected {
            let clip = try readAudio(path: "\(dir)/fa/\(name).wav").samples
            XCTAssertEqual(clip, Array(stream[(end - 16000)..<end]), name)
        }
        // Windows that overlap a keyword's labelled clip are left out (they hold a keyword).
        let kept = try writeFalseAlarmWindows(alarms, stream: dir + "/s.wav", sampleRate: 16000, clip: 16000, strideMs: 100,
                                              keywordSpansMs: [(start: 0, end: 1050)], prefix: "k", to: dir + "/kept")
        XCTAssertEqual(kept, 3, "only the alarm at 3.0 s: its windows start at 1.8 s or later")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/kept").sorted(),
                       ["k-000003000-0.wav", "k-000003000-1.wav", "k-000003000-2.wav"])
    }

    func testBadLabelFilesGiveClearErrors() throws {
        let path = NSTemporaryDirectory() + "labels-\(getpid()).csv"
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (text, expected) in [("label,start_ms,end_ms\nyes,10,x\n", ":2: expected label,start_ms,end_ms"),
                                 ("label,start_ms,end_ms\nyes,2000,1000\n", ":2:"), ("label,start_ms,end_ms\n", "no labelled words")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try readTruth(path: path)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
        try "label,start_ms,end_ms,clip\nno,4000,5000,no/a.wav\r\nyes,1000,2000,yes/b.wav\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try readTruth(path: path), [TruthWord(label: "yes", startMs: 1000, endMs: 2000, clip: "yes/b.wav"),
                                                    TruthWord(label: "no", startMs: 4000, endMs: 5000, clip: "no/a.wav")])
    }
}

@testable import KeywordSpotting
import XCTest

/// TensorFlow's streaming figures, reproduced: `RecognizeCommands` (recognize_commands.py) and
/// `StreamingAccuracyStats` (accuracy_utils.py), on hand-made inputs with hand-counted answers.
final class TensorFlowStreamingTests: XCTestCase {
    let labels = ["_silence_", "_unknown_", "yes", "no"]

    func scores(_ label: String, _ p: Float) -> [Float] { labels.map { $0 == label ? p : 0 } }

    /// Each window alone (average 0 ms, one result): any label fires, `_silence_` and `_unknown_`
    /// included; the same label never twice in a row; a different one only after the suppression
    /// time, unless the previous command was `_silence_`.
    func testRecognizerFiresAsTensorFlowDoes() {
        var r = TensorFlowRecognizer(labels: labels, averageMs: 0, threshold: 0.5, suppressMs: 500, minimumCount: 1)
        let feed: [(Int, String, Float)] = [(0, "yes", 0.9), (100, "yes", 0.9), (200, "no", 0.9), (600, "no", 0.9), (700, "_unknown_", 0.9),
                                            (1200, "_unknown_", 0.9), (1300, "_silence_", 0.9), (1800, "_silence_", 0.9),
                                            (1900, "yes", 0.9), (2000, "yes", 0.9), (2100, "no", 0.4)]
        var fired: [String] = []
        for (t, label, p) in feed { if let c = r.process(timeMs: t, scores: scores(label, p)) { fired.append("\(t):\(c)") } }
        print("RecognizeCommands fired: \(fired)")
        XCTAssertEqual(fired, ["0:yes", "600:no", "1200:_unknown_", "1800:_silence_", "1900:yes"])
    }

    /// Nothing before `minimumCount` results spanning a quarter of the window; the window keeps
    /// results exactly `averageMs` old (TensorFlow prunes only older ones).
    func testRecognizerWaitsForEnoughResultsAndKeepsTheWindowEdge() {
        var r = TensorFlowRecognizer(labels: labels, averageMs: 500, threshold: 0.7, suppressMs: 500, minimumCount: 4)
        var first: Int?
        for t in stride(from: 0, through: 300, by: 30) where first == nil {
            if r.process(timeMs: t, scores: scores("yes", 0.9)) != nil { first = t }
        }
        XCTAssertEqual(first, 150, "4 results at 90 ms, but a quarter of 500 ms is spanned only at 150")

        var edge = TensorFlowRecognizer(labels: labels, averageMs: 500, threshold: 0.6, suppressMs: 500, minimumCount: 1)
        XCTAssertNil(edge.process(timeMs: 0, scores: scores("yes", 1)))
        XCTAssertNil(edge.process(timeMs: 500, scores: scores("no", 1)), "the result at 0 ms is still in the window: yes 0.5, no 0.5")
        XCTAssertEqual(edge.process(timeMs: 640, scores: scores("no", 1)), "no")
    }

    /// accuracy_utils.py's counting: the first word within ± tolerance of each found word decides.
    func testAccuracyCountsAsAccuracyUtils() {
        let truth = [("yes", 1000), ("no", 4000), ("_unknown_", 7000), ("yes", 10000)].map { (label: $0.0, timeMs: $0.1) }
        let found = [("yes", 1200),        // yes@1000: correct
                     ("yes", 2000),        // yes@1000 again: wrong (already matched)
                     ("yes", 4100),        // no@4000: wrong
                     ("_unknown_", 7400),  // _unknown_@7000: correct
                     ("_silence_", 8000),  // never counted
                     ("no", 20000)]        // nothing within 1500 ms: false positive
            .map { (label: $0.0, timeMs: $0.1) }
        let a = TensorFlowStreamingAccuracy(found: found, truth: truth, toleranceMs: 1500)
        XCTAssertEqual(a.groundTruth, 4)
        XCTAssertEqual(a.correct, 2)
        XCTAssertEqual(a.wrong, 2)
        XCTAssertEqual(a.falsePositives, 1)
        XCTAssertEqual(a.matchedRate, 1, accuracy: 1e-12)
        XCTAssertEqual(a.correctRate, 0.5, accuracy: 1e-12)
        XCTAssertEqual(a.wrongRate, 0.5, accuracy: 1e-12)
        XCTAssertEqual(a.falsePositiveRate, 0.25, accuracy: 1e-12)
    }
}

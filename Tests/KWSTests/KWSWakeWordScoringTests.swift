import Audio
import Foundation
@testable import KeywordSpotting
import XCTest

/// The field's wake-word measurement on hand-made inputs, against hand-computed values:
/// Picovoice's scoring, false-alarm attribution, the cooldown, and the miss rate at a
/// false-alarm budget read off a sweep.
final class KWSWakeWordScoringTests: XCTestCase {
    /// One keyword ("alexa", recordings of 2 s), other speech ("bed"), noise elsewhere.
    let truth = [TruthWord(label: "alexa", startMs: 10_000, endMs: 12_000), TruthWord(label: "bed", startMs: 20_000, endMs: 21_000),
                 TruthWord(label: "alexa", startMs: 30_000, endMs: 32_000), TruthWord(label: "alexa", startMs: 40_000, endMs: 42_000)]

    func testPicovoiceScoringCountsASpanOnceAndEveryOtherFiringAsAFalseAlarm() {
        let detections = [Detection(time: 11.0, label: "alexa", score: 0.9),   // finds keyword 1
                          Detection(time: 12.3, label: "alexa", score: 0.9),   // inside keyword 1's span (end + 0.5 s): a repeat, not a false alarm
                          Detection(time: 12.6, label: "alexa", score: 0.9),   // 600 ms after its end: a false alarm on noise
                          Detection(time: 20.5, label: "alexa", score: 0.9),   // on "bed": other speech
                          Detection(time: 32.4, label: "alexa", score: 0.9),   // finds keyword 2 (2.4 s after its start, before end + 0.5 s)
                          Detection(time: 50.0, label: "alexa", score: 0.9)]   // on noise
        // Keyword 3 (40–42 s) is never detected.
        let m = StreamingMetrics(detections: detections, truth: truth, keywords: ["alexa"], durationSeconds: 7200, scoring: .picovoice)
        print("picovoice scoring: hits \(m.hits) (expected 2), repeats \(m.repeats) (1), false alarms \(m.falseAlarms) (3), misses \(m.misses) (1)")
        XCTAssertEqual(m.hits, 2)
        XCTAssertEqual(m.repeats, 1)
        XCTAssertEqual(m.falseAlarms, 3)
        XCTAssertEqual(m.misses, 1)
        XCTAssertEqual(m.keywordWords, 3)
        XCTAssertEqual(m.missRate, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.falseAlarmsPerHour, 1.5, accuracy: 1e-12, "3 false alarms in 2 hours")
        XCTAssertEqual(m.falseAlarmsBySource, [.noise: 2, .otherSpeech: 1])
        XCTAssertEqual(m.falseAlarmsWithoutKeyword.map(\.time), [12.6, 20.5, 50.0])
        // Latency: keyword 1 fired 1.0 s before its clip's end (11.0 − 12.0), keyword 2 0.4 s after (32.4 − 32.0).
        print("latencies \(m.latenciesMs) ms (expected [-1000, 400]); median and 90th percentile \(String(describing: m.latency)) (-1000, 400: nearest rank)")
        XCTAssertEqual(m.latenciesMs.count, 2)
        XCTAssertEqual(m.latenciesMs[0], -1000, accuracy: 1e-9)
        XCTAssertEqual(m.latenciesMs[1], 400, accuracy: 1e-9)
        XCTAssertEqual(m.latency!.medianMs, -1000, accuracy: 1e-9)
        XCTAssertEqual(m.latency!.p90Ms, 400, accuracy: 1e-9)
    }

    /// Latency counts from where a recording's speech ends: 0.3 s of tone, then 0.5 s of near
    /// silence (−50 dB) end the speech at 300 ms; a truth word carrying it measures from there.
    func testLatencyCountsFromTheEndOfTheSpeechInTheClip() throws {
        let dir = NSTemporaryDirectory() + "lem-speech-end-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let samples = (0..<12800).map { i in Float(i < 4800 ? 0.5 : 0.0016) * Float(sin(Double(i) * 0.3)) }
        try writeWAV(path: dir + "/word.wav", samples: samples, sampleRate: 16000)
        let end = try XCTUnwrap(speechEndMs(ofClip: dir + "/word.wav"))
        print("speech end of 300 ms of tone then 500 ms at −50 dB: \(end) ms (expected 300)")
        XCTAssertEqual(end, 300, accuracy: 1e-9)
        XCTAssertNil(speechEndMs(ofClip: dir + "/missing.wav"))
        var word = TruthWord(label: "alexa", startMs: 10_000, endMs: 10_800, clip: dir + "/word.wav")
        word.speechEndMs = word.startMs + end
        let m = StreamingMetrics(detections: [Detection(time: 10.45, label: "alexa", score: 0.9)], truth: [word], keywords: ["alexa"],
                                 durationSeconds: 60, scoring: .picovoice)
        XCTAssertEqual(m.latenciesMs.first ?? .nan, 150, accuracy: 1e-9, "fired 150 ms after the speech ended (10.45 s − 10.30 s)")
        let parsed = try parseTruth("label,start_ms,end_ms,clip\nalexa,10000,10800,\(dir)/word.wav\n", source: "t.csv")
        XCTAssertEqual(parsed.first?.clip, dir + "/word.wav")
    }

    func testOurScoringAttributesEachFalseAlarm() {
        let truth = [TruthWord(label: "yes", startMs: 1000, endMs: 2000), TruthWord(label: "no", startMs: 4000, endMs: 5000),
                     TruthWord(label: "_unknown_", startMs: 7000, endMs: 8000)]
        let detections = [Detection(time: 1.8, label: "yes", score: 0.9),   // hit
                          Detection(time: 2.5, label: "yes", score: 0.8),   // yes again on the found word: a repeat
                          Detection(time: 4.5, label: "yes", score: 0.7),   // on "no": another keyword
                          Detection(time: 7.5, label: "no", score: 0.7),    // on the unknown word: other speech
                          Detection(time: 20, label: "no", score: 0.7)]     // nowhere: noise
        let m = StreamingMetrics(detections: detections, truth: truth, keywords: ["yes", "no"], durationSeconds: 3600, toleranceMs: 750)
        XCTAssertEqual(m.hits, 1)
        XCTAssertEqual(m.falseAlarms, 4)
        XCTAssertEqual(m.falseAlarmsBySource, [.repeatedKeyword: 1, .otherKeyword: 1, .otherSpeech: 1, .noise: 1])
    }

    /// TensorFlow's rule never fires the same keyword twice without silence in between; the
    /// cooldown lets a wake word spoken twice fire twice, and nothing within the cooldown.
    func testCooldownReplacesTheLabelChangeRule() {
        let labels = ["_silence_", "_unknown_", "alexa"]
        func run(_ recognizer: CommandRecognizer) -> [Double] {
            var r = recognizer
            r.minimumCount = 1
            var times: [Double] = []
            // alexa strong at 1.0–1.2 s, unknown (not silence) in between, alexa again at 3.0–3.2 s.
            for step in 1...40 {
                let t = Double(step) * 100
                let alexa: Float = (1000...1200).contains(t) || (3000...3200).contains(t) ? 0.95 : 0.02
                if let d = r.process(time: t, scores: [0.01, 0.99 - alexa + 0.01, alexa]) { times.append(d.time) }
            }
            return times
        }
        let tensorFlow = CommandRecognizer(labels: labels, threshold: 0.9, averageMs: 100, suppressMs: 500)
        XCTAssertEqual(run(tensorFlow), [1.0], "unknown in between does not end the word under TensorFlow's rule")
        var wake = tensorFlow
        wake.cooldownMs = 1500
        XCTAssertEqual(run(wake), [1.0, 3.0])
        wake.cooldownMs = 2500
        XCTAssertEqual(run(wake), [1.0], "the second word falls inside the cooldown")
        wake.cooldownMs = 150
        XCTAssertEqual(run(wake), [1.0, 1.2, 3.0, 3.2], "a cooldown shorter than the word lets it fire again")
    }

    /// N consecutive windows above the threshold before a keyword fires (the decision layer).
    func testConsecutiveWindowsDelayAndFilterFiring() {
        let labels = ["_silence_", "_unknown_", "alexa"]
        func fired(consecutive: Int, pattern: [Float]) -> [Double] {
            var r = CommandRecognizer(labels: labels, threshold: 0.9, averageMs: 50, suppressMs: 500)
            (r.minimumCount, r.cooldownMs, r.consecutive) = (1, 1000, consecutive)
            return pattern.enumerated().compactMap { i, a in r.process(time: Double(i + 1) * 100, scores: [0.01, 0.99 - a, a])?.time }
        }
        let blip: [Float] = [0, 0.95, 0, 0, 0.95, 0.95, 0.95, 0, 0]   // one window, then three in a row
        XCTAssertEqual(fired(consecutive: 1, pattern: blip), [0.2], "the cooldown holds the second run")
        XCTAssertEqual(fired(consecutive: 2, pattern: blip), [0.6], "a lone window no longer fires; the run fires at its second window")
        XCTAssertEqual(fired(consecutive: 4, pattern: blip), [], "no run of four")
    }

    func testEnergyGateLevels() {
        XCTAssertEqual(levelDB([Float](repeating: 0.1, count: 100)), -20, accuracy: 1e-5)
        XCTAssertEqual(levelDB([Float](repeating: 0, count: 100)), -.infinity)
        XCTAssertEqual(silenceScores(labels: ["_silence_", "_unknown_", "alexa"]), [1, 0, 0])
    }

    /// The miss rate at a false-alarm budget: the lowest swept threshold within it, and the DET
    /// curve followed linearly to the budget.
    func testOperatingPointsAreReadOffTheSweep() {
        // A 10-hour stream with 100 keywords; four swept thresholds (miss count, false alarms).
        let points: [(Float, Int, Int)] = [(0.5, 2, 60), (0.9, 5, 12), (0.99, 10, 4), (0.999, 30, 0)]
        let sweep = points.map { t, misses, fa -> (threshold: Float, metrics: StreamingMetrics) in
            var truth: [TruthWord] = [], detections: [Detection] = []
            for k in 0..<100 { truth.append(TruthWord(label: "alexa", startMs: Double(k) * 300_000, endMs: Double(k) * 300_000 + 2000)) }
            for k in misses..<100 { detections.append(Detection(time: Double(k) * 300 + 1, label: "alexa", score: 1)) }
            for j in 0..<fa { detections.append(Detection(time: Double(j) * 300 + 150, label: "alexa", score: 1)) }
            detections.sort { $0.time < $1.time }
            return (t, StreamingMetrics(detections: detections, truth: truth, keywords: ["alexa"], durationSeconds: 36_000, scoring: .picovoice))
        }
        XCTAssertEqual(sweep.map(\.metrics.falseAlarmsPerHour), [6, 1.2, 0.4, 0])
        let read = OperatingPoint.read(sweep)
        // ≤ 1 FA/h: threshold 0.99 (0.4/h, 10 % missed); towards 0.9 (1.2/h, 5 %):
        // 0.10 + (1 − 0.4) / (1.2 − 0.4) × (0.05 − 0.10) = 0.0625.
        let one = try! XCTUnwrap(read[1])
        print("≤ 1 FA/h: expected threshold 0.99, miss 0.10, interpolated 0.0625; observed \(one.threshold), \(one.missRate), \(one.interpolatedMissRate)")
        XCTAssertEqual(one.threshold, 0.99)
        XCTAssertEqual(one.missRate, 0.10, accuracy: 1e-12)
        XCTAssertEqual(one.interpolatedMissRate, 0.0625, accuracy: 1e-12)
        XCTAssertEqual(one.falseAlarms, 4)
        XCTAssertEqual(one.misses, 10)
        XCTAssertEqual(one.keywords, 100)
        // ≤ 0.1 FA/h: threshold 0.999 (none, 30 %) towards 0.99: 0.30 + 0.1 / 0.4 × (0.10 − 0.30) = 0.25.
        XCTAssertEqual(read[0.1]!.interpolatedMissRate, 0.25, accuracy: 1e-12)
        XCTAssertEqual(read[0.1]!.falseAlarms, 0)
        // ≤ 5 FA/h: 0.9 (1.2/h, 5 %) towards 0.5 (6/h, 2 %): 0.05 + 3.8 / 4.8 × (−0.03).
        XCTAssertEqual(read[5]!.interpolatedMissRate, 0.05 - 3.8 / 4.8 * 0.03, accuracy: 1e-12)
        // A budget the lowest threshold already meets: no neighbour to interpolate towards.
        XCTAssertEqual(OperatingPoint.read(sweep, limits: [10])[10]!.interpolatedMissRate, 0.02, accuracy: 1e-12)
        // A budget no threshold meets.
        XCTAssertNil(OperatingPoint.read(Array(sweep.prefix(2)), limits: [0.5])[0.5])
    }

    func testSweepThresholdsReachTowardsOne() {
        XCTAssertEqual(sweepThresholds.count, 70 + 27)
        XCTAssertEqual(sweepThresholds, sweepThresholds.sorted())
        XCTAssertEqual(Set(sweepThresholds).count, sweepThresholds.count)
        XCTAssertEqual(formatThreshold(0.3), "0.30")
        XCTAssertEqual(formatThreshold(0.995), "0.995")
        XCTAssertEqual(formatThreshold(sweepThresholds.last!), "0.99999")
    }
}

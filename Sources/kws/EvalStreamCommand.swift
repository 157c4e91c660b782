import ArgumentParser
import Audio
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

extension KWS {
    struct EvalStream: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval-stream",
            abstract: "Miss rate and false alarms per hour of a keyword spotter on a labelled stream.",
            discussion: """
                Slides 1 s windows over the recording every --stride-ms, averages the
                posteriors over --average-ms, and fires a keyword when its average passes the
                threshold and it is not the keyword that fired within the last --suppress-ms
                (TensorFlow's RecognizeCommands). Detections are compared with the labels
                (kws make-stream's CSV): a detection matches a word when it falls between the
                word's start and --tolerance-ms after its clip ends. Prints, per keyword and
                overall, the miss rate and false alarms per hour (docs/STREAMING.md defines
                them). --sweep runs thresholds 0.30 … 0.99 (and --threshold) on one pass and
                writes the DET curve (CSV and SVG), and the threshold that meets
                --target-fa-per-hour.

                Also prints TensorFlow's streaming accuracy, named and counted as its
                accuracy_utils.py does (correct, wrong, false positive, matched: shares of all
                words), from TensorFlow's RecognizeCommands run on the same windows at the same
                settings (--tf-tolerance-ms around each word's start). --protocol tf takes
                test_streaming_accuracy.py's defaults for every setting not given: stride 30 ms,
                average 500 ms, threshold 0.7, suppression 500 ms, tolerance 1500 ms, minimum
                count 4 (ours: 100, 1000, 0.5, 500, 750 after the clip, 3).

                Examples:
                  kws make-stream --data speech_commands_v0.02 --minutes 30 --out stream.wav
                  kws eval-stream --checkpoint g12.ckpt stream.wav --labels stream.csv
                  kws eval-stream --checkpoint g12.ckpt stream.wav --labels stream.csv \\
                      --sweep --target-fa-per-hour 2 --json
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Argument(help: ArgumentHelp("The recording (any format libsndfile reads).", valueName: "stream")) var stream: String
        @Option(help: ArgumentHelp("Its ground truth (default: the recording's name with .csv).", valueName: "file")) var labels: String?
        @Option(help: "Defaults of the settings below: lem (ours) or tf (test_streaming_accuracy.py's).") var `protocol`: StreamProtocol = .lem
        @Option(help: "Detection threshold on the averaged posterior (lem 0.5, tf 0.7).") var threshold: Float?
        @Option(name: .customLong("stride-ms"), help: "Milliseconds between windows (lem 100, tf 30).") var strideMs: Int?
        @Option(name: .customLong("average-ms"), help: "Posteriors averaged over this many ms of windows (lem 1000, tf 500).") var averageMs: Double?
        @Option(name: .customLong("suppress-ms"), help: "After a detection, the same keyword cannot fire again for this long.") var suppressMs: Double = 500
        @Option(name: .customLong("tolerance-ms"), help: "A detection up to this long after a word's clip ends still matches it.") var toleranceMs: Double = 750
        @Option(name: .customLong("tf-tolerance-ms"), help: "TensorFlow's rates: a command within this long of a word's start matches it.") var tfToleranceMs: Int = 1500
        @Flag(help: "Run thresholds 0.30 … 0.99 and write the DET curve.") var sweep = false
        @Option(name: .customLong("target-fa-per-hour"), help: "With --sweep: report the lowest threshold with at most this many false alarms per hour.") var targetFAPerHour: Double = 2
        @Option(help: ArgumentHelp("With --sweep: the DET curve's files (default: the recording's name with .det.csv / .det.svg).", valueName: "prefix")) var det: String?
        @Option(name: .customLong("save-false-alarms"), help: ArgumentHelp("Write the windows behind every false alarm on noise or an unknown word (at --threshold) to this folder as 1 s WAVs, for kws train --hard-negatives.", valueName: "dir")) var saveFalseAlarms: String?
        @Flag(help: "Print one JSON object.") var json = false

        enum StreamProtocol: String, ExpressibleByArgument, CaseIterable { case lem, tf }

        /// The settings in force: the flags, else the protocol's defaults.
        var settings: (threshold: Float, strideMs: Int, averageMs: Double, minimumCount: Int) {
            let tf = `protocol` == .tf
            return (threshold ?? (tf ? 0.7 : 0.5), strideMs ?? (tf ? 30 : 100), averageMs ?? (tf ? 500 : 1000), tf ? 4 : 3)
        }

        mutating func validate() throws {
            if let threshold, !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must be in (0, 1)") }
            if let strideMs, strideMs < 1 { throw ValidationError("--stride-ms must be at least 1") }
            if let averageMs, !(averageMs > 0) { throw ValidationError("--average-ms must be positive") }
            if !(suppressMs >= 0 && toleranceMs >= 0 && tfToleranceMs >= 0) { throw ValidationError("--suppress-ms, --tolerance-ms and --tf-tolerance-ms must not be negative") }
        }

        func stem(_ path: String) -> String {
            guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return path }
            return String(path[..<dot])
        }

        func run() throws {
            try reportingErrors {
                let spotter = try KeywordSpotter(checkpoint: checkpoint.checkpoint, int8: precision.int8)
                let truth = try readTruth(path: labels ?? stem(stream) + ".csv")
                let audio = try AudioStream(path: stream, outputRate: spotter.tool.dataset.sampleRate)
                let keywords = spotter.tool.labels.filter { !CommandRecognizer.background.contains($0) }
                let (threshold, strideMs, averageMs, minimumCount) = settings
                let (rate, clip) = (spotter.tool.dataset.sampleRate, spotter.tool.dataset.clipSamples)
                // The sweep's grid, plus --threshold if it is not on it (the figures and saved alarms are at --threshold).
                var thresholds: [Float] = sweep ? (30...99).map { Float($0) / 100 } : [threshold]
                if sweep && !thresholds.contains(where: { abs($0 - threshold) < 1e-6 }) { thresholds = (thresholds + [threshold]).sorted() }
                var recognizers = thresholds.map {
                    var r = CommandRecognizer(labels: spotter.tool.labels, threshold: $0, averageMs: averageMs, suppressMs: suppressMs)
                    r.minimumCount = minimumCount
                    return r
                }
                var detections = [[Detection]](repeating: [], count: thresholds.count)
                // TensorFlow's figures: its RecognizeCommands at the same settings, on the windows
                // test_streaming_accuracy.py scans (starting every stride, ending inside the
                // stream), each at its start.
                var tensorFlow = TensorFlowRecognizer(labels: spotter.tool.labels, averageMs: Int(averageMs), threshold: threshold,
                                                      suppressMs: Int(suppressMs), minimumCount: minimumCount)
                var commands: [(label: String, timeMs: Int)] = []
                let stride = strideMs * rate / 1000, lastStart = Int(audio.duration * Double(rate)) - clip
                let scan = try scanWindows(read: { try audio.read(maximum: $0) }, spotter: spotter, strideMs: strideMs) { w in
                    let ms = Double(w.end) * 1000 / Double(rate)
                    for k in recognizers.indices {
                        if let d = recognizers[k].process(time: ms, scores: w.scores) { detections[k].append(d) }
                    }
                    if w.start % stride == 0 && w.start < lastStart {
                        let startMs = w.start * 1000 / rate
                        if let label = tensorFlow.process(timeMs: startMs, scores: w.scores) { commands.append((label, startMs)) }
                    }
                }
                let metrics = detections.map { StreamingMetrics(detections: $0, truth: truth, keywords: keywords, durationSeconds: audio.duration,
                                                                toleranceMs: toleranceMs) }
                let tf = TensorFlowStreamingAccuracy(found: commands, truth: truth.map { ($0.label, Int($0.startMs.rounded())) },
                                                     toleranceMs: tfToleranceMs)
                let main = thresholds.firstIndex { abs($0 - threshold) < 1e-6 } ?? 0
                let m = metrics[main]
                var object: [String: Any] = [
                    "stream": stream, "checkpoint": checkpoint.checkpoint, "hours": m.hours, "threshold": Double(thresholds[main]),
                    "miss_rate": m.missRate, "fa_per_hour": m.falseAlarmsPerHour, "keywords": m.keywordWords, "words": m.words,
                    "protocol": `protocol`.rawValue, "stride_ms": strideMs, "average_ms": averageMs, "minimum_count": minimumCount,
                    "tensorflow": ["correct": tf.correctRate, "wrong": tf.wrongRate, "false_positive": tf.falsePositiveRate,
                                   "matched": tf.matchedRate, "words": tf.groundTruth, "tolerance_ms": tfToleranceMs],
                    "windows": scan.windows,
                    "real_time_factor": audio.duration / max(scan.seconds, 1e-9),
                    "per_keyword": Dictionary(uniqueKeysWithValues: keywords.compactMap { k in
                        m.missRate(k).map { (k, ["miss_rate": $0, "fa_per_hour": m.falseAlarmsPerHour(k)]) }
                    }),
                ]
                if sweep {
                    let prefix = det ?? stem(stream) + ".det"
                    let rows = zip(thresholds, metrics).map { t, m in
                        let onGrid = abs(Double(t) * 100 - (Double(t) * 100).rounded()) < 1e-4
                        return String(format: onGrid ? "%.2f,%.6f,%.4f" : "%.4f,%.6f,%.4f", Double(t), m.missRate, m.falseAlarmsPerHour)
                    }
                    do { try ("threshold,miss_rate,fa_per_hour\n" + rows.joined(separator: "\n") + "\n").write(toFile: prefix + ".csv", atomically: true, encoding: .utf8) } catch {
                        throw ToolError(description: "\(prefix).csv: cannot write the DET curve (\(error.localizedDescription))")
                    }
                    try writeLineChart([ChartSeries(name: "DET",
                                                    points: metrics.map { ($0.falseAlarmsPerHour, 100 * $0.missRate) })],
                                       title: "\(checkpoint.checkpoint) on \(stream): miss rate against false alarms per hour",
                                       xLabel: "false alarms per hour", yLabel: "miss rate (%)", to: prefix + ".svg")
                    object["det_csv"] = prefix + ".csv"
                    object["det_svg"] = prefix + ".svg"
                    if let best = zip(thresholds, metrics).first(where: { $0.1.falseAlarmsPerHour <= targetFAPerHour }) {
                        object["target"] = ["fa_per_hour_limit": targetFAPerHour, "threshold": Double(best.0), "miss_rate": best.1.missRate,
                                            "fa_per_hour": best.1.falseAlarmsPerHour]
                    } else {
                        object["target"] = ["fa_per_hour_limit": targetFAPerHour, "threshold": NSNull()]
                    }
                }
                if let folder = saveFalseAlarms {
                    let spans = truth.filter { keywords.contains($0.label) }.map { (start: $0.startMs, end: $0.endMs) }
                    let written = try writeFalseAlarmWindows(m.falseAlarmsWithoutKeyword, stream: stream, sampleRate: spotter.tool.dataset.sampleRate,
                                                             clip: spotter.tool.dataset.clipSamples, strideMs: strideMs, keywordSpansMs: spans,
                                                             prefix: (stem(stream) as NSString).lastPathComponent, to: folder)
                    object["false_alarm_windows"] = ["folder": folder, "count": written]
                }
                if json { print(jsonLine(object)); return }
                print(String(format: "%@: %.2f h, %d words (%d keywords), %d windows at %.0fx real time", stream, m.hours, m.words, m.keywordWords,
                             scan.windows, audio.duration / max(scan.seconds, 1e-9)))
                print(String(format: "threshold %.2f: miss rate %.1f%%, %.1f false alarms per hour (tolerance %.0f ms after each clip)",
                             Double(thresholds[main]), 100 * m.missRate, m.falseAlarmsPerHour, toleranceMs))
                print(String(format: "TensorFlow's streaming accuracy (accuracy_utils.py, tolerance %d ms): %.1f%% matched, %.1f%% correct, %.1f%% wrong, %.1f%% false positive",
                             tfToleranceMs, 100 * tf.matchedRate, 100 * tf.correctRate, 100 * tf.wrongRate, 100 * tf.falsePositiveRate))
                for k in keywords { if let r = m.missRate(k) { print("  " + k.padding(toLength: 9, withPad: " ", startingAt: 0) + String(format: "miss %5.1f%%  FA/h %6.1f", 100 * r, m.falseAlarmsPerHour(k))) } }
                if let target = object["target"] as? [String: Any] {
                    if let t = target["threshold"] as? Double, let mr = target["miss_rate"] as? Double, let fa = target["fa_per_hour"] as? Double {
                        print(String(format: "at most %g false alarms per hour: threshold %.2f, miss rate %.1f%% (%.2f FA/h)", targetFAPerHour, t, 100 * mr, fa))
                    } else {
                        print(String(format: "no threshold up to 0.99 keeps false alarms at or below %g per hour", targetFAPerHour))
                    }
                    print("DET curve: \(object["det_csv"]!), \(object["det_svg"]!)")
                }
                if let saved = object["false_alarm_windows"] as? [String: Any] {
                    print("\(saved["count"]!) windows of \(m.falseAlarmsWithoutKeyword.count) false alarms on noise or unknown words (each with the two windows before it) written to \(saved["folder"]!)")
                }
            }
        }
    }
}

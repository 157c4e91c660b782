import Audio
import Foundation
import LEMModel
import TaskSupport

/// `kws eval-stream` as one call: a keyword spotter over a labelled recording (a file, or raw
/// PCM on standard input for a stream too long to keep), our miss rate and false alarms per
/// hour at one threshold — scored our way or Picovoice's, each false alarm attributed to noise,
/// other speech or another keyword — (and, with `sweep`, the DET curve over `sweepThresholds`
/// written as CSV and SVG, the miss rate at the field's false-alarm rates and the threshold that
/// meets `targetFAPerHour`), TensorFlow's streaming accuracy beside them, and optionally the
/// windows behind the false alarms for a hard-negative pass (docs/STREAMING.md defines every figure).
package struct StreamEvaluation {
    package var checkpoint: String
    package var int8 = false
    package var stream: String
    /// The ground truth (default: the recording's name with .csv).
    package var labels: String?
    package var protocolName = "lem"
    package var threshold: Float = 0.5
    package var strideMs = 100
    package var averageMs: Double = 1000
    package var minimumCount = 3
    package var suppressMs: Double = 500
    package var toleranceMs: Double = 750
    package var scoring: StreamScoring = .lem
    /// Refractory time after every firing (0: TensorFlow's rule; see `CommandRecognizer`).
    package var cooldownMs: Double = 0
    /// Raw PCM on standard input (`stream` is then "-"): its format and channels.
    package var standardInput: PCMInput?
    /// The rate the user says standard input is at (checked against the model's).
    package var standardInputRate: Int?
    package var tfToleranceMs = 1500
    package var sweep = false
    package var targetFAPerHour: Double = 2
    /// With `sweep`: the DET curve's files (default: the recording's name with .det.csv / .det.svg).
    package var det: String?
    package var saveFalseAlarms: String?

    package init(checkpoint: String, stream: String) { (self.checkpoint, self.stream) = (checkpoint, stream) }

    /// The figures as one JSON object, and as lines for a terminal.
    package struct Report {
        package var object: [String: Any]
        package var lines: [String]
    }

    private func stem(_ path: String) -> String {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return path }
        return String(path[..<dot])
    }

    package func run() throws -> Report {
        let spotter = try KeywordSpotter(checkpoint: checkpoint, int8: int8)
        let labelsPath = labels ?? stem(stream) + ".csv"
        // A file's labels are read first (a wrong path fails at once); a pipe's after its audio,
        // which kws make-stream writes only once the labels are complete.
        var truth = standardInput == nil ? try readTruth(path: labelsPath) : []
        let read: (Int) throws -> [Float]
        if let pcm = standardInput {
            let modelRate = spotter.tool.dataset.sampleRate
            if let r = standardInputRate, r != modelRate { throw KWSStreamError("--rate \(r): the model takes \(modelRate) Hz; resample upstream") }
            read = { try pcm.read(maximum: $0) }
        } else {
            let audio = try AudioStream(path: stream, outputRate: spotter.tool.dataset.sampleRate)
            read = { try audio.read(maximum: $0) }
        }
        let keywords = spotter.tool.labels.filter { !CommandRecognizer.background.contains($0) }
        let (rate, clip) = (spotter.tool.dataset.sampleRate, spotter.tool.dataset.clipSamples)
        // The sweep's grid, plus --threshold if it is not on it (the figures and saved alarms are at --threshold).
        var thresholds: [Float] = sweep ? sweepThresholds : [threshold]
        if sweep && !thresholds.contains(where: { abs($0 - threshold) < 1e-6 }) { thresholds = (thresholds + [threshold]).sorted() }
        var recognizers = thresholds.map {
            var r = CommandRecognizer(labels: spotter.tool.labels, threshold: $0, averageMs: averageMs, suppressMs: suppressMs)
            r.minimumCount = minimumCount
            r.cooldownMs = cooldownMs
            return r
        }
        var detections = [[Detection]](repeating: [], count: thresholds.count)
        // TensorFlow's figures: its RecognizeCommands at the same settings, on the windows
        // test_streaming_accuracy.py scans (starting every stride, ending inside the
        // stream), each at its start.
        var tensorFlow = TensorFlowRecognizer(labels: spotter.tool.labels, averageMs: Int(averageMs), threshold: threshold,
                                              suppressMs: Int(suppressMs), minimumCount: minimumCount)
        var commands: [(label: String, timeMs: Int)] = []
        // TensorFlow scans windows that start every stride and end inside the stream: the
        // windows of the stream's last second are kept until its length is known.
        let stride = strideMs * rate / 1000
        var lastSecond: [(start: Int, end: Int, scores: [Float])] = []
        let scan = try scanWindows(read: read, spotter: spotter, strideMs: strideMs) { w in
            let ms = Double(w.end) * 1000 / Double(rate)
            for k in recognizers.indices {
                if let d = recognizers[k].process(time: ms, scores: w.scores) { detections[k].append(d) }
            }
            if w.start % stride == 0 {
                lastSecond.append((w.start, w.end, w.scores))
                while let first = lastSecond.first, first.start + clip < w.end {
                    let startMs = first.start * 1000 / rate
                    if let label = tensorFlow.process(timeMs: startMs, scores: first.scores) { commands.append((label, startMs)) }
                    lastSecond.removeFirst()
                }
            }
        }
        let totalSamples = scan.samples
        for w in lastSecond where w.start < totalSamples - clip {
            let startMs = w.start * 1000 / rate
            if let label = tensorFlow.process(timeMs: startMs, scores: w.scores) { commands.append((label, startMs)) }
        }
        let duration = Double(totalSamples) / Double(rate)
        if standardInput != nil { truth = try readTruth(path: labelsPath) }
        let metrics = detections.map { StreamingMetrics(detections: $0, truth: truth, keywords: keywords, durationSeconds: duration,
                                                        toleranceMs: toleranceMs, scoring: scoring) }
        let tf = TensorFlowStreamingAccuracy(found: commands, truth: truth.map { ($0.label, Int($0.startMs.rounded())) },
                                             toleranceMs: tfToleranceMs)
        let main = thresholds.firstIndex { abs($0 - threshold) < 1e-6 } ?? 0
        let m = metrics[main]
        var object: [String: Any] = [
            "stream": stream, "checkpoint": checkpoint, "hours": m.hours, "threshold": Double(thresholds[main]),
            "miss_rate": m.missRate, "fa_per_hour": m.falseAlarmsPerHour, "keywords": m.keywordWords, "words": m.words,
            "protocol": protocolName, "stride_ms": strideMs, "average_ms": averageMs, "minimum_count": minimumCount,
            "scoring": scoring.rawValue, "cooldown_ms": cooldownMs, "false_alarms": m.falseAlarms,
            "false_alarm_sources": Dictionary(uniqueKeysWithValues: FalseAlarmSource.allCases.map { ($0.rawValue, m.falseAlarmsBySource[$0] ?? 0) }),
            "tensorflow": ["correct": tf.correctRate, "wrong": tf.wrongRate, "false_positive": tf.falsePositiveRate,
                           "matched": tf.matchedRate, "words": tf.groundTruth, "tolerance_ms": tfToleranceMs],
            "windows": scan.windows,
            "real_time_factor": duration / max(scan.seconds, 1e-9),
            "per_keyword": Dictionary(uniqueKeysWithValues: keywords.compactMap { k in
                m.missRate(k).map { (k, ["miss_rate": $0, "fa_per_hour": m.falseAlarmsPerHour(k)]) }
            }),
        ]
        if sweep {
            let prefix = det ?? stem(stream) + ".det"
            let rows = zip(thresholds, metrics).map { t, m in
                formatThreshold(t) + String(format: ",%.6f,%.4f,%d,%d", m.missRate, m.falseAlarmsPerHour, m.misses, m.falseAlarms)
            }
            do { try ("threshold,miss_rate,fa_per_hour,misses,false_alarms\n" + rows.joined(separator: "\n") + "\n").write(toFile: prefix + ".csv", atomically: true, encoding: .utf8) } catch {
                throw ToolError(description: "\(prefix).csv: cannot write the DET curve (\(error.localizedDescription))")
            }
            try writeLineChart([ChartSeries(name: "DET",
                                            points: metrics.map { ($0.falseAlarmsPerHour, 100 * $0.missRate) })],
                               title: "\(checkpoint) on \(stream): miss rate against false alarms per hour",
                               xLabel: "false alarms per hour", yLabel: "miss rate (%)", to: prefix + ".svg")
            let points = OperatingPoint.read(Array(zip(thresholds, metrics)).map { (threshold: $0.0, metrics: $0.1) })
            object["operating_points"] = fieldFalseAlarmRates.map { limit in
                points[limit]?.object ?? ["fa_per_hour_limit": limit, "threshold": NSNull()]
            }
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
        var lines: [String] = []
        lines.append(String(format: "%@: %.2f h, %d words (%d keywords), %d windows at %.0fx real time", stream, m.hours, m.words, m.keywordWords,
                     scan.windows, duration / max(scan.seconds, 1e-9)))
        let scoringNote = scoring == .picovoice ? "Picovoice's scoring: 500 ms after each keyword" : String(format: "tolerance %.0f ms after each clip", toleranceMs)
        lines.append("threshold \(formatThreshold(thresholds[main])): " + String(format: "miss rate %.1f%% (%d of %d), %.1f false alarms per hour (%d; ",
                     100 * m.missRate, m.misses, m.keywordWords, m.falseAlarmsPerHour, m.falseAlarms)
                     + FalseAlarmSource.allCases.filter { scoring == .lem || $0 != .repeatedKeyword }
                        .map { "\(m.falseAlarmsBySource[$0] ?? 0) \($0.rawValue.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", ")
                     + ") (\(scoringNote)\(cooldownMs > 0 ? String(format: ", cooldown %.0f ms", cooldownMs) : ""))")
        lines.append(String(format: "TensorFlow's streaming accuracy (accuracy_utils.py, tolerance %d ms): %.1f%% matched, %.1f%% correct, %.1f%% wrong, %.1f%% false positive",
                     tfToleranceMs, 100 * tf.matchedRate, 100 * tf.correctRate, 100 * tf.wrongRate, 100 * tf.falsePositiveRate))
        for k in keywords { if let r = m.missRate(k) { lines.append("  " + k.padding(toLength: 9, withPad: " ", startingAt: 0) + String(format: "miss %5.1f%%  FA/h %6.1f", 100 * r, m.falseAlarmsPerHour(k))) } }
        if let points = object["operating_points"] as? [[String: Any]] {
            lines.append("miss rate at the field's false-alarm rates (DET sweep; interpolated, and at the swept threshold):")
            for p in points {
                let limit = p["fa_per_hour_limit"] as! Double
                if let t = p["threshold"] as? Double, let mi = p["miss_rate_interpolated"] as? Double, let mr = p["miss_rate"] as? Double {
                    lines.append(String(format: "  ≤ %-4g FA/h: %5.1f%%  (threshold %@: %.1f%%, %d misses of %d keywords, %d false alarms = %.2f/h)", limit, 100 * mi,
                                        formatThreshold(Float(t)), 100 * mr, p["misses"] as! Int, p["keywords"] as! Int, p["false_alarms"] as! Int, p["fa_per_hour"] as! Double))
                } else {
                    lines.append(String(format: "  ≤ %-4g FA/h: not reached (more false alarms at every swept threshold up to %@)", limit, formatThreshold(sweepThresholds.last!)))
                }
            }
        }
        if let target = object["target"] as? [String: Any] {
            if let t = target["threshold"] as? Double, let mr = target["miss_rate"] as? Double, let fa = target["fa_per_hour"] as? Double {
                lines.append(String(format: "at most %g false alarms per hour: threshold %@, miss rate %.1f%% (%.2f FA/h)", targetFAPerHour, formatThreshold(Float(t)), 100 * mr, fa))
            } else {
                lines.append(String(format: "no threshold up to \(formatThreshold(sweepThresholds.last!)) keeps false alarms at or below %g per hour", targetFAPerHour))
            }
            lines.append("DET curve: \(object["det_csv"]!), \(object["det_svg"]!)")
        }
        if let saved = object["false_alarm_windows"] as? [String: Any] {
            lines.append("\(saved["count"]!) windows of \(m.falseAlarmsWithoutKeyword.count) false alarms on noise or unknown words (each with the two windows before it) written to \(saved["folder"]!)")
        }
        return Report(object: object, lines: lines)
    }
}

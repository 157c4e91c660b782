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
    /// Milliseconds between windows (nil: the model's default, `KeywordSpotter.defaultStrideMs`).
    package var strideMs: Int?
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
    /// Score another detector instead of a checkpoint: its `time_s,label,score` frames.
    package var scoresFile: String?
    /// The decision layer: windows in a row above the threshold, and the energy gate (dBFS).
    package var consecutive = 1
    package var energyGateDB: Double?
    /// With `sweep`: write the per-keyword thresholds that meet `targetFAPerHour` (and these
    /// settings) into the checkpoint, for `kws listen`.
    package var saveDecision = false
    /// Without `sweep`: these keywords' own thresholds instead of `threshold` (a checkpoint's
    /// decision layer, as `kws listen` applies it).
    package var perKeywordThresholds: [String: Float] = [:]
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

    /// What a scan of the stream gave: the detections at each threshold, TensorFlow's commands
    /// (a model's scan only), and its size and speed.
    private struct Scan {
        var labels: [String]
        var detections: [[Detection]]
        var commands: [(label: String, timeMs: Int)]?
        var windows: Int
        var seconds: Double
        var duration: Double
        var sampleRate = 16000, clip = 16000
        var gated = 0
        var strideMs = 100
    }

    private func recognizers(labels: [String], thresholds: [Float], external: Bool) -> [CommandRecognizer] {
        thresholds.map {
            var r = CommandRecognizer(labels: labels, threshold: $0, perClass: sweep ? [:] : perKeywordThresholds, averageMs: averageMs, suppressMs: suppressMs)
            r.minimumCount = external ? 1 : minimumCount
            r.cooldownMs = cooldownMs
            r.consecutive = consecutive
            return r
        }
    }

    /// The model's scan of the audio (a file or standard input).
    private func scanModel(thresholds: [Float]) throws -> Scan {
        let spotter = try KeywordSpotter(checkpoint: checkpoint, int8: int8)
        let read: (Int) throws -> [Float]
        if let pcm = standardInput {
            let modelRate = spotter.tool.dataset.sampleRate
            if let r = standardInputRate, r != modelRate { throw KWSStreamError("--rate \(r): the model takes \(modelRate) Hz; resample upstream") }
            read = { try pcm.read(maximum: $0) }
        } else {
            let audio = try AudioStream(path: stream, outputRate: spotter.tool.dataset.sampleRate)
            read = { try audio.read(maximum: $0) }
        }
        let (rate, clip) = (spotter.tool.dataset.sampleRate, spotter.tool.dataset.clipSamples)
        var recognizers = recognizers(labels: spotter.tool.labels, thresholds: thresholds, external: false)
        var detections = [[Detection]](repeating: [], count: thresholds.count)
        // TensorFlow's figures: its RecognizeCommands at the same settings, on the windows
        // test_streaming_accuracy.py scans (starting every stride, ending inside the
        // stream), each at its start.
        var tensorFlow = TensorFlowRecognizer(labels: spotter.tool.labels, averageMs: Int(averageMs), threshold: threshold,
                                              suppressMs: Int(suppressMs), minimumCount: minimumCount)
        var commands: [(label: String, timeMs: Int)] = []
        // TensorFlow scans windows that start every stride and end inside the stream: the
        // windows of the stream's last second are kept until its length is known.
        let strideMs = self.strideMs ?? spotter.defaultStrideMs
        let stride = strideMs * rate / 1000
        var lastSecond: [(start: Int, end: Int, scores: [Float])] = []
        let silent = silenceScores(labels: spotter.tool.labels)
        var gated = 0
        let scan = try scanWindows(read: read, spotter: spotter, strideMs: strideMs) { w in
            let ms = Double(w.end) * 1000 / Double(rate)
            let quiet = energyGateDB.map { w.levelDB < $0 } ?? false
            if quiet { gated += 1 }
            for k in recognizers.indices {
                if let d = recognizers[k].process(time: ms, scores: quiet ? silent : w.scores) { detections[k].append(d) }
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
        return Scan(labels: spotter.tool.labels, detections: detections, commands: commands, windows: scan.windows, seconds: scan.seconds,
                    duration: Double(totalSamples) / Double(rate), sampleRate: rate, clip: clip, gated: gated, strideMs: strideMs)
    }

    /// Another detector's scores (`scoresFile`: `time,label,score` per frame, e.g. openWakeWord's
    /// every 80 ms from tools/reference/peers/), through the same recognizer: a keyword's score
    /// is its posterior, `_unknown_` takes the rest.
    private func scanScores(_ path: String, thresholds: [Float]) throws -> Scan {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw KWSStreamError("\(path): cannot read the scores (\(error.localizedDescription))")
        }
        let rows = try parseDetectorScores(text, source: path)
        var keywords: [String] = []
        for r in rows where !keywords.contains(r.label) { keywords.append(r.label) }
        let labels = ["_silence_", "_unknown_"] + keywords
        var recognizers = recognizers(labels: labels, thresholds: thresholds, external: true)
        var detections = [[Detection]](repeating: [], count: thresholds.count)
        var i = 0, frames = 0
        while i < rows.count {
            var scores = [Float](repeating: 0, count: labels.count)
            let t = rows[i].time
            while i < rows.count && rows[i].time == t { scores[2 + keywords.firstIndex(of: rows[i].label)!] = rows[i].score; i += 1 }
            scores[1] = 1 - (scores.dropFirst(2).max() ?? 0)
            frames += 1
            for k in recognizers.indices {
                if let d = recognizers[k].process(time: t * 1000, scores: scores) { detections[k].append(d) }
            }
        }
        let duration = standardInput == nil ? try AudioStream(path: stream).duration : rows.last!.time
        return Scan(labels: labels, detections: detections, commands: nil, windows: frames, seconds: 0, duration: duration)
    }

    package func run() throws -> Report {
        let labelsPath = labels ?? stem(stream) + ".csv"
        // The DET curve's files must not overwrite what this run reads (`--det x` writes x.csv and x.svg).
        if sweep {
            let prefix = det ?? stem(stream) + ".det"
            for output in [prefix + ".csv", prefix + ".svg"] {
                for (what, input) in [("--scores", scoresFile), ("the labels", labelsPath), ("the stream", stream), ("--checkpoint", scoresFile == nil ? checkpoint : nil)] {
                    if let input, input != "-", samePath(output, input) {
                        throw KWSStreamError("--det \(prefix) would write the DET curve to \(output), which is \(what): give another --det prefix")
                    }
                }
            }
        }
        // A file's labels are read first (a wrong path fails at once); a pipe's after its audio,
        // which kws make-stream writes only once the labels are complete.
        var truth = standardInput == nil ? try readTruth(path: labelsPath) : []
        // The sweep's grid, plus --threshold if it is not on it (the figures and saved alarms are at --threshold).
        var thresholds: [Float] = sweep ? sweepThresholds : [threshold]
        if sweep && !thresholds.contains(where: { abs($0 - threshold) < 1e-6 }) { thresholds = (thresholds + [threshold]).sorted() }
        let scan = try scoresFile.map { try scanScores($0, thresholds: thresholds) } ?? scanModel(thresholds: thresholds)
        let keywords = scan.labels.filter { !CommandRecognizer.background.contains($0) }
        let duration = scan.duration
        if standardInput != nil { truth = try readTruth(path: labelsPath) }
        // Where each keyword's speech ends inside its recording (latencies count from there).
        var speechEnds: [String: Double?] = [:]
        var measuredEnds = 0
        for i in truth.indices where keywords.contains(truth[i].label) {
            guard let clip = truth[i].clip else { continue }
            if speechEnds[clip] == nil { speechEnds[clip] = .some(speechEndMs(ofClip: clip)) }
            if let end = speechEnds[clip]!, truth[i].startMs + end <= truth[i].endMs + 1 {
                truth[i].speechEndMs = truth[i].startMs + end
                measuredEnds += 1
            }
        }
        let metrics = scan.detections.map { StreamingMetrics(detections: $0, truth: truth, keywords: keywords, durationSeconds: duration,
                                                             toleranceMs: toleranceMs, scoring: scoring) }
        let tf = scan.commands.map { TensorFlowStreamingAccuracy(found: $0, truth: truth.map { ($0.label, Int($0.startMs.rounded())) },
                                                                toleranceMs: tfToleranceMs) }
        let main = thresholds.firstIndex { abs($0 - threshold) < 1e-6 } ?? 0
        let m = metrics[main]
        var object: [String: Any] = [
            "stream": stream, "checkpoint": scoresFile == nil ? checkpoint : NSNull(), "scores": scoresFile ?? NSNull(), "hours": m.hours, "threshold": Double(thresholds[main]),
            "miss_rate": m.missRate, "fa_per_hour": m.falseAlarmsPerHour, "keywords": m.keywordWords, "words": m.words,
            "protocol": protocolName, "stride_ms": scoresFile == nil ? scan.strideMs as Any : NSNull(), "average_ms": averageMs, "minimum_count": minimumCount,
            "scoring": scoring.rawValue, "cooldown_ms": cooldownMs, "false_alarms": m.falseAlarms, "consecutive": consecutive,
            "energy_gate_db": energyGateDB ?? NSNull(), "gated_windows": scan.gated,
            "keyword_thresholds": sweep || perKeywordThresholds.isEmpty ? NSNull() : perKeywordThresholds.mapValues { Double(formatThreshold($0))! } as Any,
            "false_alarm_sources": Dictionary(uniqueKeysWithValues: FalseAlarmSource.allCases.map { ($0.rawValue, m.falseAlarmsBySource[$0] ?? 0) }),
            "windows": scan.windows,
            "latency_ms": m.latency.map { ["median": $0.medianMs, "p90": $0.p90Ms, "found": m.latenciesMs.count,
                                           "from": "the end of each keyword's speech (30 dB under its loudest 10 ms) for \(measuredEnds) of \(m.keywordWords) keywords, else its clip's end"] as [String: Any] } ?? NSNull(),
            "per_keyword": Dictionary(uniqueKeysWithValues: keywords.compactMap { k in
                m.missRate(k).map { (k, ["miss_rate": $0, "fa_per_hour": m.falseAlarmsPerHour(k)]) }
            }),
        ]
        if let tf {
            object["tensorflow"] = ["correct": tf.correctRate, "wrong": tf.wrongRate, "false_positive": tf.falsePositiveRate,
                                    "matched": tf.matchedRate, "words": tf.groundTruth, "tolerance_ms": tfToleranceMs]
            object["real_time_factor"] = duration / max(scan.seconds, 1e-9)
        }
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
                               title: "\(scoresFile ?? checkpoint) on \(stream): miss rate against false alarms per hour",
                               xLabel: "false alarms per hour", yLabel: "miss rate (%)",
                               logX: metrics.contains { $0.falseAlarmsPerHour > 0 }, to: prefix + ".svg")   // the field's log axis, when there is a false alarm to put on it
            let points = OperatingPoint.read(Array(zip(thresholds, metrics)).map { (threshold: $0.0, metrics: $0.1) })
            object["operating_points"] = fieldFalseAlarmRates.map { limit in
                points[limit]?.object ?? ["fa_per_hour_limit": limit, "threshold": NSNull()]
            }
            object["det_csv"] = prefix + ".csv"
            object["det_svg"] = prefix + ".svg"
            // The decision layer: each keyword's lowest swept threshold whose own false alarms stay
            // within its share of the budget.
            var perKeyword: [String: Float] = [:]
            for k in keywords {
                if let t = zip(thresholds, metrics).first(where: { $0.1.falseAlarmsPerHour(k) <= targetFAPerHour / Double(keywords.count) })?.0 { perKeyword[k] = t }
            }
            object["decision"] = ["thresholds": perKeyword.mapValues { Double(formatThreshold($0))! }, "target_fa_per_hour": targetFAPerHour,
                                  "consecutive": consecutive, "energy_gate_db": energyGateDB ?? NSNull(), "cooldown_ms": cooldownMs, "average_ms": averageMs]
            if saveDecision {
                guard scoresFile == nil else { throw KWSStreamError("--save-decision writes into a checkpoint: not with --scores") }
                guard perKeyword.count == keywords.count else {
                    throw KWSStreamError("--save-decision: no swept threshold keeps \(keywords.filter { perKeyword[$0] == nil }.joined(separator: ", "))'s false alarms within \(targetFAPerHour / Double(keywords.count)) per hour; nothing written")
                }
                let settings = DetectionSettings(thresholds: perKeyword, averageMs: averageMs, cooldownMs: cooldownMs, consecutive: consecutive,
                                                 energyGateDB: energyGateDB, targetFAPerHour: targetFAPerHour, chosenOn: stream, scoring: scoring.rawValue)
                let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings))
                try Checkpoint.updateTool(path: checkpoint, expectedKind: "kws") { $0["detection"] = encoded }
                object["decision_saved_to"] = checkpoint
            }
            if let best = zip(thresholds, metrics).first(where: { $0.1.falseAlarmsPerHour <= targetFAPerHour }) {
                object["target"] = ["fa_per_hour_limit": targetFAPerHour, "threshold": Double(best.0), "miss_rate": best.1.missRate,
                                    "fa_per_hour": best.1.falseAlarmsPerHour]
            } else {
                object["target"] = ["fa_per_hour_limit": targetFAPerHour, "threshold": NSNull()]
            }
        }
        if let folder = saveFalseAlarms {
            let spans = truth.filter { keywords.contains($0.label) }.map { (start: $0.startMs, end: $0.endMs) }
            let written = try writeFalseAlarmWindows(m.falseAlarmsWithoutKeyword, stream: stream, sampleRate: scan.sampleRate,
                                                     clip: scan.clip, strideMs: scan.strideMs, keywordSpansMs: spans,
                                                     prefix: (stem(stream) as NSString).lastPathComponent, to: folder)
            object["false_alarm_windows"] = ["folder": folder, "count": written]
        }
        var lines: [String] = []
        if scoresFile == nil {
            lines.append(String(format: "%@: %.2f h, %d words (%d keywords), %d windows at %.0fx real time", stream, m.hours, m.words, m.keywordWords,
                         scan.windows, duration / max(scan.seconds, 1e-9)))
        } else {
            lines.append(String(format: "%@: %.2f h, %d words (%d keywords); %d frames of scores from %@", stream, m.hours, m.words, m.keywordWords,
                         scan.windows, scoresFile!))
        }
        let scoringNote = scoring == .picovoice ? "Picovoice's scoring: 500 ms after each keyword" : String(format: "tolerance %.0f ms after each clip", toleranceMs)
        let shown = sweep || perKeywordThresholds.isEmpty ? formatThreshold(thresholds[main])
            : perKeywordThresholds.sorted { $0.key < $1.key }.map { "\($0.key) \(formatThreshold($0.value))" }.joined(separator: ", ")
        lines.append("threshold \(shown): " + String(format: "miss rate %.1f%% (%d of %d), %.1f false alarms per hour (%d; ",
                     100 * m.missRate, m.misses, m.keywordWords, m.falseAlarmsPerHour, m.falseAlarms)
                     + FalseAlarmSource.allCases.filter { scoring == .lem || $0 != .repeatedKeyword }
                        .map { "\(m.falseAlarmsBySource[$0] ?? 0) \($0.rawValue.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", ")
                     + ") (\(scoringNote)\(cooldownMs > 0 ? String(format: ", cooldown %.0f ms", cooldownMs) : ""))"
                     + (m.latency.map { String(format: "; fired %.0f ms after the keyword's speech ended (median; 90th percentile %.0f ms)", $0.medianMs, $0.p90Ms) } ?? ""))
        if let tf {
            lines.append(String(format: "TensorFlow's streaming accuracy (accuracy_utils.py, tolerance %d ms): %.1f%% matched, %.1f%% correct, %.1f%% wrong, %.1f%% false positive",
                         tfToleranceMs, 100 * tf.matchedRate, 100 * tf.correctRate, 100 * tf.wrongRate, 100 * tf.falsePositiveRate))
        }
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
            if let d = object["decision"] as? [String: Any], let t = d["thresholds"] as? [String: Double] {
                lines.append("decision layer (each keyword's share of " + String(format: "%g", targetFAPerHour) + " FA/h): " + t.sorted { $0.key < $1.key }.map { "\($0.key) \(formatThreshold(Float($0.value)))" }.joined(separator: ", ")
                             + (object["decision_saved_to"] != nil ? "; saved in \(checkpoint) for kws listen" : ""))
            }
        }
        if let saved = object["false_alarm_windows"] as? [String: Any] {
            lines.append("\(saved["count"]!) windows of \(m.falseAlarmsWithoutKeyword.count) false alarms on noise or unknown words (each with the two windows before it) written to \(saved["folder"]!)")
        }
        return Report(object: object, lines: lines)
    }
}

/// The frames of a detector's scores file (`time_s,label,score` per line after an optional
/// header; times in order, scores in [0, 1]; errors name `source` and the line).
public func parseDetectorScores(_ text: String, source: String) throws -> [(time: Double, label: String, score: Float)] {
    var rows: [(time: Double, label: String, score: Float)] = []
    for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
        let f = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if f.allSatisfy(\.isEmpty) || (number == 0 && (f.first == "time" || f.first == "time_s")) { continue }
        guard f.count == 3, let t = Double(f[0]), t.isFinite, t >= 0, !f[1].isEmpty, !f[1].hasPrefix("_"), let v = Float(f[2]), v.isFinite, (0...1).contains(v),
              t >= (rows.last?.time ?? 0) else {
            throw KWSStreamError("\(source):\(number + 1): expected time_s,label,score with times in order and a score in [0, 1], got \"\(line)\"")
        }
        rows.append((t, f[1], v))
    }
    guard !rows.isEmpty else { throw KWSStreamError("\(source): no scores") }
    return rows
}

import Foundation
import LEMModel

/// One training run of any task, as every tool runs it: the resumable state read once (when the
/// run continues one), the header, the shared `Trainer`, and the finish — the outcome line, the
/// best checkpoint's test figures, the metrics log's "test" record and the learning curve.
///
/// A task library builds its task and settings (reading `resumed` for what a resumed run must
/// keep) and calls `train`, then `finish`; its command maps flags to the library's configuration.
public struct TrainingRun {
    public let files: RunFiles
    /// `<checkpoint>.resume` when the run continues one (read here, once; the trainer reuses it).
    public let resumed: Checkpoint?
    public let group: ProcessGroup

    /// Reads `<checkpoint>.resume` when `resume` is set (a missing or foreign file is an error
    /// naming it).
    public init(checkpoint: String, resume: Bool, kind: String, group: ProcessGroup = .world) throws {
        files = RunFiles(checkpoint: checkpoint)
        resumed = resume ? try Checkpoint.read(path: files.resume, expectedKind: kind) : nil
        self.group = group
    }

    public var isResumed: Bool { resumed != nil }

    /// Prints `header` (rank 0) and trains `task`: the trainer continues from `resumed` if any.
    public func train(_ task: TrainingTask, settings: TrainerSettings, header: [String], progress: ProgressSink) throws -> TrainingOutcome {
        if group.isLeader { writeStandardError(header.joined(separator: "\n") + "\n") }
        var settings = settings
        settings.checkpointPath = files.checkpoint
        settings.resume = resumed != nil
        return try Trainer(task: task, settings: settings, progress: progress, group: group, resumeFrom: resumed).run()
    }

    /// The test of a finished run: lines to print and the figures of the metrics log's "test" record.
    public struct TestReport {
        public var lines: [String]
        public var figures: [String: Double]
        public init(lines: [String], figures: [String: Double]) { (self.lines, self.figures) = (lines, figures) }
    }

    /// On rank 0 (the other ranks return at once): the outcome line, `test()` on the best
    /// checkpoint (nil: no test split), its record in the metrics log, and the learning curve.
    /// `describeMetric` renders a validation figure, e.g. "ppl 123.4" or "accuracy 95.12%".
    public func finish(_ outcome: TrainingOutcome, unitName: String, describeMetric: (Double) -> String,
                       curveTitle: String, metricName: String, test: () throws -> TestReport?) throws {
        guard group.isLeader else { return }
        var result = "training \(outcome.reason.rawValue) after \(outcome.completedEpochs) epoch(s), \(outcome.steps) steps, "
            + "\(formatCount(outcome.throughput)) \(unitName)/s"
        if let metric = outcome.bestMetric, let epoch = outcome.bestEpoch {
            result += "; best valid \(describeMetric(metric)) at epoch \(epoch)"
        }
        if outcome.ranks > 1 {
            result += String(format: "; %d MPI ranks, %.1f%% of rank 0's training time in allreduce", outcome.ranks,
                             100 * outcome.communicationSeconds / max(outcome.trainingSeconds, 1e-9))
        }
        print(result)
        if let report = try test() {
            for line in report.lines { print(line, terminator: line.hasSuffix("\n") ? "" : "\n") }
            MetricsLog(path: files.metrics, append: true).record("test", report.figures)
        }
        if (try? writeLearningCurve(metricsPath: files.metrics, to: files.curve, title: curveTitle, metricName: metricName)) != nil {
            print("learning curve: \(files.curve)")
        }
    }
}

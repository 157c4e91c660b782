import Foundation
import LEMModel
import Runtime
import TaskSupport

/// `seq online` as a library call: reads vectors from a stream, learns while predicting
/// (`OnlineLearner`), and reports the prequential error every `reportEvery` steps (the mean over
/// those steps, and the same for predicting "no change"), until the stream ends or `maxSteps`.
package struct OnlineRun {
    package var learner: OnlineLearner
    package var stream: VectorStream
    package var reportEvery = 1000
    package var maxSteps: Int?
    /// Also write the curve (prequential MSE or accuracy per report) as an SVG chart.
    package var plot: String?
    /// A vector already read from the stream (a text stream's first line, read for its width):
    /// the run takes it before the rest.
    package var first: [Float]?

    package init(learner: OnlineLearner, stream: VectorStream) { (self.learner, self.stream) = (learner, stream) }

    /// One report: the `steps` scored since the last one, up to step `step`. A next-value stream
    /// reports the mean squared error and the no-change baseline's; a label stream the accuracy,
    /// the mean cross-entropy and the most-frequent-class baseline's accuracy.
    package struct Report {
        package var step: Int, steps: Int, updates: Int, elapsed: Double
        package var meanSquaredError = 0.0, persistence = 0.0
        package var labels = false, accuracy = 0.0, crossEntropy = 0.0, majorityAccuracy = 0.0
        package var object: [String: Any] {
            var o: [String: Any] = ["step": step, "over_steps": steps, "updates": updates, "elapsed_s": elapsed]
            if labels {
                o["accuracy"] = accuracy; o["cross_entropy"] = crossEntropy; o["majority_accuracy"] = majorityAccuracy
            } else {
                o["mse"] = meanSquaredError; o["persistence_mse"] = persistence
            }
            return o
        }
        package var line: String {
            labels
                ? String(format: "step %d: prequential accuracy %.2f %% over the last %d steps (cross-entropy %.4g; the most frequent class so far: %.2f %%), %d updates, %.1f s",
                         step, 100 * accuracy, steps, crossEntropy, 100 * majorityAccuracy, updates, elapsed)
                : String(format: "step %d: prequential MSE %.5g over the last %d steps (predicting no change: %.5g), %d updates, %.1f s",
                         step, meanSquaredError, steps, persistence, updates, elapsed)
        }
    }

    /// Sums of the per-step scores over a stretch of the stream.
    private struct Tally {
        var count = 0, squared = 0.0, persistence = 0.0, correct = 0, crossEntropy = 0.0, majority = 0
        mutating func add(_ s: OnlineLearner.Step) {
            if let e = s.squaredError, let p = s.persistenceError { squared += e; persistence += p; count += 1 }
            if let ce = s.crossEntropy {
                crossEntropy += ce; count += 1
                if s.correct == true { correct += 1 }
                if s.majorityCorrect == true { majority += 1 }
            }
        }
        func report(step: Int, updates: Int, elapsed: Double, labels: Bool) -> Report {
            var r = Report(step: step, steps: count, updates: updates, elapsed: elapsed)
            let n = Double(max(count, 1))
            (r.meanSquaredError, r.persistence) = (squared / n, persistence / n)
            (r.labels, r.accuracy, r.crossEntropy, r.majorityAccuracy) = (labels, Double(correct) / n, crossEntropy / n, Double(majority) / n)
            return r
        }
    }

    /// Runs to the end of the stream; `report` gets each report as it is made. Returns the
    /// summary (totals over the whole stream, the peak resident memory).
    package func run(report: (Report) -> Void) throws -> [String: Any] {
        let started = monotonicSeconds()
        let settings = learner.settings, labels = settings.classes != nil
        var window = Tally(), total = Tally()
        var curve: [(x: Double, y: Double)] = [], baseline: [(x: Double, y: Double)] = []
        var first = self.first
        func next() throws -> [Float]? {
            if let x = first { first = nil; return x }
            return try stream.next()
        }
        while maxSteps.map({ learner.steps < $0 }) ?? true, let x = try next() {
            guard x.count == settings.features else {
                throw SequenceDataError(stream.source, "vectors of \(x.count) values, the model reads \(settings.features) (--features)")
            }
            if let classes = settings.classes, VectorStream.label(of: x, classes: classes) == nil {
                throw SequenceDataError(stream.source, "vector \(learner.steps + 1): its last value \(x.last!) is not a class (an integer from 0 to \(classes - 1): --classes \(classes))")
            }
            let step = learner.observe(x)
            window.add(step); total.add(step)
            if learner.steps % reportEvery == 0 && window.count > 0 {
                let r = window.report(step: learner.steps, updates: learner.updates, elapsed: monotonicSeconds() - started, labels: labels)
                report(r)
                curve.append((Double(r.step), labels ? 100 * r.accuracy : r.meanSquaredError))
                baseline.append((Double(r.step), labels ? 100 * r.majorityAccuracy : r.persistence))
                window = Tally()
            }
        }
        let elapsed = monotonicSeconds() - started
        if let plot, !curve.isEmpty {
            try writeLineChart([ChartSeries(name: "\(settings.cell.displayName) online", points: curve),
                                ChartSeries(name: labels ? "most frequent class" : "no change", points: baseline)],
                               title: labels ? "\(stream.source): prequential accuracy (over \(reportEvery) steps)"
                                             : "\(stream.source): prequential squared error (mean over \(reportEvery) steps)",
                               xLabel: "step", yLabel: labels ? "accuracy (%)" : "MSE", logY: !labels, to: plot)
        }
        var summary: [String: Any] = [
            "steps": learner.steps, "updates": learner.updates, "elapsed_s": elapsed,
            "steps_per_s": Double(learner.steps) / max(elapsed, 1e-9), "peak_rss_mb": peakResidentMegabytes(),
            "cell": settings.cell.rawValue, "hidden": settings.hiddenSize, "layers": settings.layers,
            "window": settings.window, "lr": Double(settings.learningRate)]
        let n = Double(total.count)
        if labels {
            summary["classes"] = settings.classes!
            summary["accuracy"] = total.count > 0 ? Double(total.correct) / n : NSNull()
            summary["cross_entropy"] = total.count > 0 ? total.crossEntropy / n : NSNull()
            summary["majority_accuracy"] = total.count > 0 ? Double(total.majority) / n : NSNull()
        } else {
            summary["mse"] = total.count > 0 ? total.squared / n : NSNull()
            summary["persistence_mse"] = total.count > 0 ? total.persistence / n : NSNull()
        }
        return summary
    }
}

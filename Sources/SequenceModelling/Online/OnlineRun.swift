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
    /// Also write the curve (prequential MSE per report) as an SVG chart.
    package var plot: String?

    package init(learner: OnlineLearner, stream: VectorStream) { (self.learner, self.stream) = (learner, stream) }

    /// One report: steps `[first, last]`.
    package struct Report {
        package var step: Int, steps: Int, meanSquaredError: Double, persistence: Double, updates: Int, elapsed: Double
        package var object: [String: Any] {
            ["step": step, "over_steps": steps, "mse": meanSquaredError, "persistence_mse": persistence, "updates": updates, "elapsed_s": elapsed]
        }
        package var line: String {
            String(format: "step %d: prequential MSE %.5g over the last %d steps (predicting no change: %.5g), %d updates, %.1f s",
                   step, meanSquaredError, steps, persistence, updates, elapsed)
        }
    }

    /// Runs to the end of the stream; `report` gets each report as it is made. Returns the
    /// summary (totals over the whole stream, the peak resident memory).
    package func run(report: (Report) -> Void) throws -> [String: Any] {
        let started = monotonicSeconds()
        var (sum, persistenceSum, count) = (0.0, 0.0, 0)
        var (totalSum, totalPersistence, totalCount) = (0.0, 0.0, 0)
        var curve: [(x: Double, y: Double)] = [], baseline: [(x: Double, y: Double)] = []
        while maxSteps.map({ learner.steps < $0 }) ?? true, let x = try stream.next() {
            guard x.count == learner.settings.features else {
                throw SequenceDataError(stream.source, "vectors of \(x.count) values, the model reads \(learner.settings.features) (--features)")
            }
            let step = learner.observe(x)
            if let e = step.squaredError, let p = step.persistenceError {
                sum += e; persistenceSum += p; count += 1
                totalSum += e; totalPersistence += p; totalCount += 1
            }
            if learner.steps % reportEvery == 0 && count > 0 {
                let r = Report(step: learner.steps, steps: count, meanSquaredError: sum / Double(count), persistence: persistenceSum / Double(count),
                               updates: learner.updates, elapsed: monotonicSeconds() - started)
                report(r)
                curve.append((Double(r.step), r.meanSquaredError)); baseline.append((Double(r.step), r.persistence))
                (sum, persistenceSum, count) = (0, 0, 0)
            }
        }
        let elapsed = monotonicSeconds() - started
        if let plot, !curve.isEmpty {
            try writeLineChart([ChartSeries(name: "\(learner.settings.cell.displayName) online", points: curve),
                                ChartSeries(name: "no change", points: baseline)],
                               title: "\(stream.source): prequential squared error (mean over \(reportEvery) steps)",
                               xLabel: "step", yLabel: "MSE", logY: true, to: plot)
        }
        return ["steps": learner.steps, "updates": learner.updates, "mse": totalCount > 0 ? totalSum / Double(totalCount) : NSNull(),
                "persistence_mse": totalCount > 0 ? totalPersistence / Double(totalCount) : NSNull(), "elapsed_s": elapsed,
                "steps_per_s": Double(learner.steps) / max(elapsed, 1e-9), "peak_rss_mb": peakResidentMegabytes(),
                "cell": learner.settings.cell.rawValue, "hidden": learner.settings.hiddenSize, "layers": learner.settings.layers,
                "window": learner.settings.window, "lr": Double(learner.settings.learningRate)]
    }
}


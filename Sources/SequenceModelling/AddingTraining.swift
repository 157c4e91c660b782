import Foundation
import LEMModel
import TaskSupport

/// `adding train` as one call: the paper's long-memory test (Figure 1 of Rusch et al.) for one
/// cell on the shared training run — checkpoints, resume, metrics log and curve as `lm` and
/// `kws` have them — and the curve of test MSE against steps and training minutes as CSV.
///
/// Each sequence has T steps of (value, marker): values uniform in [0, 1], two markers set to 1,
/// one in each half; the target is the sum of the two marked values. A model that has not
/// learned to remember predicts the mean, 1, and its mean squared error is the variance, 1/6.
package struct AddingTraining {
    package var cell: CellKind = .lem
    package var hidden = 128, length = 1000, batch = 50, steps = 10_000, evalEvery = 100, testSize = 1000
    package var lr: Float = 2.6e-3
    package var dt: Float = 0.0242
    package var clip: Float = 0
    package var seed: UInt64 = 1
    package var checkpoint = "adding.ckpt"
    package var resume = false
    package var maxMinutes: Double?
    /// Where to write the curve (step, training minutes, test MSE), or nil.
    package var csv: String?

    package init() {}

    package func run(progress: ProgressSink) throws {
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "adding")
        let config = try run.resumed?.model(AddingConfig.self) ?? AddingConfig(cell: cell, hiddenSize: hidden, dt: dt)
        let model = AddingModel(cell: config.cell, hiddenSize: config.hiddenSize, dt: config.dt, workers: min(workerCount, batch))
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        let tool: AddingToolData
        if let saved = run.resumed {
            tool = try saved.tool(AddingToolData.self)
        } else {
            let fresh = AddingTask(model: model, config: config,
                                   tool: AddingToolData(length: length, batch: batch, evalEvery: evalEvery, testSize: testSize, initialTestMSE: 0),
                                   seed: seed)
            tool = AddingToolData(length: length, batch: batch, evalEvery: evalEvery, testSize: testSize,
                                  initialTestMSE: fresh.validate().metric)
        }
        let task = AddingTask(model: model, config: config, tool: tool, seed: seed)
        let header = ["adding: \(config.cell.displayName) hidden \(config.hiddenSize)\(config.cell == .lem ? ", dt \(config.dt)" : ""), T = \(tool.length), batch \(tool.batch), "
                      + "Adam \(lr), \(formatCount(Double(model.parameters.scalarCount))) parameters; "
                      + "predicting the mean gives test MSE 0.167; before training \(String(format: "%.6f", tool.initialTestMSE))"]
        var settings = TrainerSettings(epochs: (steps + tool.evalEvery - 1) / tool.evalEvery, learningRate: lr,
                                       optimizer: OptimizerSettings(kind: .adam), clip: clip > 0 ? clip : nil, seed: seed, checkpointPath: checkpoint)
        RunLimits(maxMinutes: maxMinutes, maxSteps: steps).apply(to: &settings)
        let outcome = try run.train(task, settings: settings, header: header, progress: progress)
        try run.finish(outcome, unitName: "sequences", describeMetric: { String(format: "test MSE %.6f", $0) },
                       curveTitle: "adding T = \(tool.length), \(config.cell.displayName): \(checkpoint)", metricName: "test MSE") { nil }
        if let csv, run.group.isLeader { try writeCurve(to: csv, initialTestMSE: tool.initialTestMSE, metrics: run.files.metrics) }
    }

    /// The curve from the metrics log: step 0 (before training), then every validation.
    private func writeCurve(to path: String, initialTestMSE: Double, metrics: String) throws {
        var byStep: [Int: (minutes: Double, mse: Double)] = [:]
        for r in MetricsLog.records(path: metrics) where r["event"] as? String == "valid" {
            if let step = r["step"] as? Double, let mse = r["metric"] as? Double, let seconds = r["elapsed_s"] as? Double {
                byStep[Int(step)] = (seconds / 60, mse)   // a resumed run may repeat a step: the last record wins
            }
        }
        let rows = [String(format: "0,0.0000,%.8g", initialTestMSE)]
            + byStep.keys.sorted().map { String(format: "%d,%.4f,%.8g", $0, byStep[$0]!.minutes, byStep[$0]!.mse) }
        do { try (["step,minutes,test_mse"] + rows).joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw ToolError(description: "\(path): cannot write the curve (\(error.localizedDescription))")
        }
    }
}

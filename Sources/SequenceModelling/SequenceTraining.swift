import Foundation
import LEMModel
import TaskSupport

/// `seq train` as one call, for classification: labelled sequences from files (`.ts`, `.npz`,
/// `.csv`), a stack of recurrent layers with the class read from the last step, on the shared
/// training run (checkpoint, resume, metrics log, curve), and the test accuracy of the best
/// checkpoint at the end.
package struct SequenceTraining {
    package var train: String
    package var valid: String
    package var test: String?
    /// Values per step of a CSV file.
    package var features: Int?
    package var hidden = 128, batch = 120, epochs = 30
    package var lr: Float = 1e-3
    package var dt: Float = 1
    package var clip: Float?
    package var decayAt: [Int] = []
    package var lrDecay: Float = 0.1
    package var architecture = Architecture()
    package var checkpoint = "seq.ckpt"
    package var resume = false
    package var seed: UInt64 = 1
    package var limits = RunLimits()
    /// A .csv or .npz file's labels are regression targets (a .ts file says so itself).
    package var regression = false

    package init(train: String, valid: String) { (self.train, self.valid) = (train, valid) }

    package func run(progress: ProgressSink) throws {
        let trainSet = try readSequenceFile(train, features: features, regression: regression)
        let validSet = try readSequenceFile(valid, features: features, regression: regression, classNames: trainSet.classNames)
        guard case let .classes(_, classCount) = trainSet.labels else { return try runRegression(trainSet, validSet, progress: progress) }
        guard validSet.steps == trainSet.steps, validSet.features == trainSet.features, case let .classes(_, validClasses) = validSet.labels,
              validClasses <= classCount else {
            throw SettingsError("\(valid): sequences of \(validSet.steps) × \(validSet.features) or its classes do not match \(train) (\(trainSet.steps) × \(trainSet.features), \(classCount) classes)")
        }
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "seq")
        let config = try configuration(SequenceClassifierConfig(inputSize: trainSet.features, hiddenSize: hidden, classCount: classCount, dt: dt), run: run)
        let model = SequenceClassifier(config: config)
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        let tool = try run.resumed?.tool(SequenceToolData.self)
            ?? SequenceToolData(steps: trainSet.steps, features: trainSet.features, classCount: classCount,
                                classNames: trainSet.classNames ?? [], targetWidth: nil, data: train)
        let task = SequenceClassificationTask(model: model, tool: tool, train: trainSet, valid: validSet, batchSize: batch)
        let header = [
            "seq train: \(train): \(trainSet.count) sequences of \(trainSet.steps) steps × \(trainSet.features) features, \(classCount) classes; valid \(validSet.count) (\(valid))",
            modelLine(config, parameters: model.parameters.scalarCount),
            trainingLine(batches: task.batchesPerEpoch),
        ]
        let outcome = try run.train(task, settings: trainerSettings(), header: header, progress: progress)
        try run.finish(outcome, unitName: "steps", describeMetric: { String(format: "accuracy %.2f%%", 100 * $0) },
                       curveTitle: "seq: \(checkpoint)", metricName: "accuracy") {
            guard let test else { return nil }
            let (best, tool) = try loadSequenceClassifier(checkpoint)
            let testSet = try readSequenceFile(test, features: features, classNames: tool.classNames)
            try check(best, reads: testSet, source: test)
            let (accuracy, loss) = evaluateClassifier(best, testSet)
            return TrainingRun.TestReport(lines: [String(format: "test accuracy %.2f%% (N=%d, best checkpoint %@)", 100 * accuracy, testSet.count, checkpoint)],
                                          figures: ["accuracy": accuracy, "loss": loss, "count": Double(testSet.count)])
        }
    }

    /// A new run's model settings with the requested stack, or a resumed run's (the request checked against them).
    private func configuration<Config: StackSettings & Decodable>(_ fresh: Config, run: TrainingRun) throws -> Config {
        var config = fresh
        if let saved = run.resumed {
            config = try saved.model(Config.self)
            try architecture.checkResume(cell: config.cell, layers: config.layers, path: saved.path)
        } else {
            config.cell = architecture.cell ?? .lem
            config.layers = architecture.layers ?? 1
            config.layerDropout = architecture.dropoutLayer ?? 0
        }
        if let problem = config.problem { throw SettingsError(problem) }
        return config
    }

    private func modelLine(_ config: some StackSettings, parameters: Int, readOut: String = "") -> String {
        "model: \(config.layers) × \(config.cell.displayName) hidden \(config.hiddenSize)\(config.cell == .lem ? ", dt \(config.dt)" : "")\(readOut); \(formatCount(Double(parameters))) parameters"
    }

    private func trainingLine(batches: Int, loss: String = "") -> String {
        "training: adam lr \(lr)\(decayAt.isEmpty ? "" : " ×\(lrDecay) after epochs \(decayAt)"), \(loss)batch \(batch) = \(batches) batches/epoch, \(epochs) epochs, clip \(clip.map { "\($0)" } ?? "none"); checkpoint \(checkpoint)"
    }

    private func trainerSettings() -> TrainerSettings {
        var settings = TrainerSettings(epochs: epochs, learningRate: lr, schedule: decayAt.isEmpty ? .constant : .stepDecay(milestones: decayAt, factor: lrDecay),
                                       optimizer: OptimizerSettings(kind: .adam), clip: clip, seed: seed, checkpointPath: checkpoint)
        limits.apply(to: &settings)
        return settings
    }

    /// The same run for regression targets: `SequenceRegressor`, mean squared error, RMSE.
    private func runRegression(_ trainSet: SequenceDataset, _ validSet: SequenceDataset, progress: ProgressSink) throws {
        guard case let .targets(_, width) = trainSet.labels else { return }
        guard validSet.steps == trainSet.steps, validSet.features == trainSet.features, case let .targets(_, validWidth) = validSet.labels,
              validWidth == width else {
            throw SettingsError("\(valid): its sequences or targets do not match \(train) (\(trainSet.steps) × \(trainSet.features), \(width) targets)")
        }
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "seq")
        let config = try configuration(SequenceRegressorConfig(inputSize: trainSet.features, hiddenSize: hidden, outputSize: width, dt: dt), run: run)
        let model = SequenceRegressor(config: config)
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        let tool = try run.resumed?.tool(SequenceToolData.self)
            ?? SequenceToolData(steps: trainSet.steps, features: trainSet.features, classCount: 0, classNames: [], targetWidth: width, data: train)
        let task = SequenceRegressionTask(model: model, tool: tool, train: trainSet, valid: validSet, batchSize: batch)
        let header = [
            "seq train: \(train): \(trainSet.count) sequences of \(trainSet.steps) steps × \(trainSet.features) features, \(width) regression target(s); valid \(validSet.count) (\(valid))",
            modelLine(config, parameters: model.parameters.scalarCount, readOut: ", linear read-out"),
            trainingLine(batches: task.batchesPerEpoch, loss: "mean squared error, "),
        ]
        let outcome = try run.train(task, settings: trainerSettings(), header: header, progress: progress)
        try run.finish(outcome, unitName: "steps", describeMetric: { String(format: "RMSE %.5g", $0) },
                       curveTitle: "seq: \(checkpoint)", metricName: "RMSE") {
            guard let test else { return nil }
            let testSet = try readSequenceFile(test, features: features, regression: true)
            let best = try Checkpoint.read(path: checkpoint, expectedKind: "seq").sequenceRegressor()
            guard testSet.features == best.config.inputSize, case let .targets(_, testWidth) = testSet.labels, testWidth == width else {
                throw SettingsError("\(test): its sequences or targets do not match the model")
            }
            let rmse = (evaluateRegressor(best, testSet) / Double(max(testSet.count * width, 1))).squareRoot()
            return TrainingRun.TestReport(lines: [String(format: "test RMSE %.5g (N=%d, best checkpoint %@)", rmse, testSet.count, checkpoint)],
                                          figures: ["rmse": rmse, "count": Double(testSet.count)])
        }
    }
}

/// The model of a `seq` checkpoint and its tool data.
package func loadSequenceClassifier(_ path: String) throws -> (SequenceClassifier, SequenceToolData) {
    let checkpoint = try Checkpoint.read(path: path, expectedKind: "seq")
    let tool = try checkpoint.tool(SequenceToolData.self)
    let model = try checkpoint.sequenceClassifier()
    guard tool.classNames.count == model.config.classCount, tool.features == model.config.inputSize else {
        throw CheckpointError(path: path, problem: "its class names, features and model do not agree (corrupt or hand-edited checkpoint)")
    }
    return (model, tool)
}

/// Refuses data the model cannot read.
package func check(_ model: SequenceClassifier, reads data: SequenceDataset, source: String) throws {
    guard data.features == model.config.inputSize else {
        throw SettingsError("\(source): \(data.features) features per step, the model reads \(model.config.inputSize)")
    }
}

/// `seq eval` as one call: a checkpoint's figure on a file — accuracy and mean cross-entropy for
/// a classifier, RMSE for a regressor — and, if asked, each sequence's prediction (class and
/// probabilities, or the predicted values).
package struct SequenceEvaluation {
    package var checkpoint: String
    package var data: String
    package var features: Int?

    package init(checkpoint: String, data: String) { (self.checkpoint, self.data) = (checkpoint, data) }

    package enum Prediction { case classProbabilities(Int32, [Float]), values([Float]) }
    package struct Result {
        package var metricName: String
        package var metric: Double
        /// Mean cross-entropy (classification) or mean squared error (regression).
        package var loss: Double
        package var count: Int
    }

    package func run(predictions: ((Int, Prediction) -> Void)? = nil) throws -> Result {
        let checkpointFile = try Checkpoint.read(path: checkpoint, expectedKind: "seq")
        let tool = try checkpointFile.tool(SequenceToolData.self)
        if let width = tool.targetWidth {
            let model = try checkpointFile.sequenceRegressor()
            let set = try readSequenceFile(data, features: features, regression: true)
            guard set.features == model.config.inputSize, case let .targets(_, w) = set.labels, w == width else {
                throw SettingsError("\(data): \(set.features) features per step and its targets do not match the model of \(checkpoint) (\(model.config.inputSize) features, \(width) targets)")
            }
            let sse = evaluateRegressor(model, set) { i, values in predictions?(i, .values(values)) }
            let mse = sse / Double(max(set.count * width, 1))
            return Result(metricName: "RMSE", metric: mse.squareRoot(), loss: mse, count: set.count)
        }
        let (model, _) = try loadSequenceClassifier(checkpoint)
        let set = try readSequenceFile(data, features: features, classNames: tool.classNames)
        try check(model, reads: set, source: data)
        let C = model.config.classCount
        let (accuracy, loss) = evaluateClassifier(model, set) { i, best, logits in
            guard let predictions else { return }
            var p = Array(UnsafeBufferPointer(start: logits, count: C))
            let top = p.max() ?? 0
            var sum: Float = 0
            for c in p.indices { p[c] = Float(exp(Double(p[c] - top))); sum += p[c] }
            predictions(i, .classProbabilities(best, p.map { $0 / sum }))
        }
        return Result(metricName: "accuracy", metric: accuracy, loss: loss, count: set.count)
    }
}

/// What the two sequence models' settings share: the recurrent stack a run asks for.
protocol StackSettings {
    var cell: CellKind { get set }
    var layers: Int { get set }
    var layerDropout: Float { get set }
    var hiddenSize: Int { get }
    var dt: Float { get }
    var problem: String? { get }
}

extension SequenceClassifierConfig: StackSettings {}
extension SequenceRegressorConfig: StackSettings {}

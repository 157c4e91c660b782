import Foundation
import LEMModel
import TaskSupport

/// `seq train` as one call: labelled sequences from files (`.ts`, `.npz`, `.csv`) or one of the
/// paper's tasks with the authors' pipeline (`PaperTask`), a stack of recurrent layers read out
/// at the last step (a class, or regression targets) or at every step (per-step targets), on the
/// shared training run (checkpoint, resume, metrics log, curve), and the test figure of the best
/// checkpoint at the end.
package struct SequenceTraining {
    package enum Source {
        case files(train: String, valid: String, test: String?)
        /// A paper task from its data folder (nil: the task's default; FitzHugh-Nagumo: generated).
        case task(PaperTask, data: String?)
    }
    package var source: Source
    /// Values per step of a CSV file.
    package var features: Int?
    /// A .csv or .npz file's labels are regression targets (a .ts file says so itself).
    package var regression = false
    package var recipe = SequenceRecipe()
    package var architecture = Architecture()
    package var checkpoint = "seq.ckpt"
    package var resume = false
    package var seed: UInt64 = 1
    package var limits = RunLimits()

    package init(source: Source) { self.source = source }

    /// The three sets, how they were made, and what the checkpoint records of them.
    private func loadSplits() throws -> (TaskSplits, name: String, task: PaperTask?) {
        switch source {
        case let .task(task, data):
            return (try task.load(data: data), "--task \(task.rawValue)", task)
        case let .files(train, valid, test):
            let trainSet = try readSequenceFile(train, features: features, regression: regression)
            let validSet = try readSequenceFile(valid, features: features, regression: regression, classNames: trainSet.classNames)
            let (f, r) = (features, regression)
            let testSet: (() throws -> SequenceDataset)? = test.map { path in
                { try readSequenceFile(path, features: f, regression: r, classNames: trainSet.classNames) }
            }
            return (TaskSplits(train: trainSet, valid: validSet, test: testSet, provenance: []), train, nil)
        }
    }

    package func run(progress: ProgressSink) throws {
        let (splits, name, task) = try loadSplits()
        let (trainSet, validSet) = (splits.train, splits.valid)
        let validName = if case let .files(_, valid, _) = source { valid } else { "valid" }
        try checkMatch(validSet, matches: trainSet, source: validName, trainName: name)
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "seq")
        let group = run.group
        guard recipe.batch >= group.size else {
            throw SettingsError("--batch \(recipe.batch) is smaller than the \(group.size) MPI ranks that share each batch")
        }
        let described = "\(name): \(trainSet.count) sequences of \(trainSet.steps) steps × \(trainSet.features) features"
        if case let .classes(_, classCount) = trainSet.labels {
            let config = try configuration(SequenceClassifierConfig(inputSize: trainSet.features, hiddenSize: recipe.hidden, classCount: classCount, dt: recipe.dt), run: run)
            let model = SequenceClassifier(config: config)
            var rng = RandomGenerator(seed: seed)
            model.initializeAsTheAuthors(&rng)
            let tool = try run.resumed?.tool(SequenceToolData.self)
                ?? SequenceToolData(steps: trainSet.steps, features: trainSet.features, classCount: classCount,
                                    classNames: trainSet.classNames ?? [], targetWidth: nil, data: name, task: task)
            let task = SequenceClassificationTask(model: model, tool: tool, train: trainSet, valid: validSet, batchSize: recipe.batch, group: group)
            let header = ["seq train: \(described), \(classCount) classes; valid \(validSet.count)" + ranksNote(group)] + splits.provenance + [
                modelLine(config, parameters: model.parameters.scalarCount), trainingLine(batches: task.batchesPerEpoch)]
            let outcome = try run.train(task, settings: trainerSettings(), header: header, progress: progress)
            try run.finish(outcome, unitName: "steps", describeMetric: { String(format: "accuracy %.2f%%", 100 * $0) },
                           curveTitle: "seq: \(checkpoint)", metricName: "accuracy") {
                guard let test = splits.test else { return nil }
                let (best, tool) = try loadSequenceClassifier(checkpoint)
                let testSet = try test().renumbered(to: tool.classNames, source: "test")
                try check(best, reads: testSet, source: "test")
                let (accuracy, loss) = evaluateClassifier(best, testSet)
                return TrainingRun.TestReport(lines: [String(format: "test accuracy %.2f%% (N=%d, best checkpoint %@)", 100 * accuracy, testSet.count, checkpoint)],
                                              figures: ["accuracy": accuracy, "loss": loss, "count": Double(testSet.count)])
            }
            return
        }
        let (width, everyStep) = trainSet.regressionShape!
        let config = try configuration(SequenceRegressorConfig(inputSize: trainSet.features, hiddenSize: recipe.hidden, outputSize: width,
                                                               dt: recipe.dt, everyStep: everyStep), run: run)
        let model = SequenceRegressor(config: config)
        var rng = RandomGenerator(seed: seed)
        model.initializeAsTheAuthors(&rng)
        let tool = try run.resumed?.tool(SequenceToolData.self)
            ?? SequenceToolData(steps: trainSet.steps, features: trainSet.features, classCount: 0, classNames: [], targetWidth: width, data: name, task: task)
        let regression = SequenceRegressionTask(model: model, tool: tool, train: trainSet, valid: validSet, batchSize: recipe.batch, group: group)
        let header = ["seq train: \(described), \(width) regression target(s)\(everyStep ? " at every step" : ""); valid \(validSet.count)" + ranksNote(group)]
            + splits.provenance + [
                modelLine(config, parameters: model.parameters.scalarCount, readOut: everyStep ? ", linear read-out at every step" : ", linear read-out"),
                trainingLine(batches: regression.batchesPerEpoch, loss: "mean squared error, ")]
        let outcome = try run.train(regression, settings: trainerSettings(), header: header, progress: progress)
        try run.finish(outcome, unitName: "steps", describeMetric: { String(format: "RMSE %.5g", $0) },
                       curveTitle: "seq: \(checkpoint)", metricName: "RMSE") {
            guard let test = splits.test else { return nil }
            let testSet = try test()
            let best = try Checkpoint.read(path: checkpoint, expectedKind: "seq").sequenceRegressor()
            try check(best, reads: testSet, source: "test")
            let rmse = (evaluateRegressor(best, testSet) / Double(max(testSet.count * outputsPerSequence(testSet), 1))).squareRoot()
            return TrainingRun.TestReport(lines: [String(format: "test RMSE %.5g (N=%d, best checkpoint %@)", rmse, testSet.count, checkpoint)],
                                          figures: ["rmse": rmse, "count": Double(testSet.count)])
        }
    }

    private func ranksNote(_ group: ProcessGroup) -> String {
        group.isDistributed ? "; \(group.size) MPI ranks, each training its share of every batch" : ""
    }

    /// Refuses a validation set whose sequences or labels do not match the training set's.
    private func checkMatch(_ valid: SequenceDataset, matches train: SequenceDataset, source: String, trainName: String) throws {
        let shapeMatches = valid.steps == train.steps && valid.features == train.features
        switch (train.labels, valid.labels) {
        case let (.classes(_, classCount), .classes(_, validClasses)) where shapeMatches && validClasses <= classCount: return
        case let (.targets(_, w), .targets(_, v)) where shapeMatches && w == v: return
        case let (.stepTargets(_, w), .stepTargets(_, v)) where shapeMatches && w == v: return
        default:
            throw SettingsError("\(source): its sequences (\(valid.steps) × \(valid.features)) or labels do not match \(trainName)'s (\(train.steps) × \(train.features))")
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
        "model: \(config.layers) × \(config.cell.displayName) hidden \(config.hiddenSize)\(config.cell == .lem ? ", dt \(config.dt)" : "")\(readOut) (initialised as the authors': read-out weight N(0, 2/d)); \(formatCount(Double(parameters))) parameters"
    }

    private func trainingLine(batches: Int, loss: String = "") -> String {
        let r = recipe
        return "training: adam lr \(r.lr)\(r.decayAt.isEmpty ? "" : " ×\(r.lrDecay) after epochs \(r.decayAt)"), \(loss)batch \(r.batch) = \(batches) batches/epoch, \(r.epochs) epochs, clip \(r.clip.map { "\($0)" } ?? "none"); checkpoint \(checkpoint)"
    }

    private func trainerSettings() -> TrainerSettings {
        let r = recipe
        var settings = TrainerSettings(epochs: r.epochs, learningRate: r.lr, schedule: r.decayAt.isEmpty ? .constant : .stepDecay(milestones: r.decayAt, factor: r.lrDecay),
                                       optimizer: OptimizerSettings(kind: .adam), clip: r.clip, seed: seed, checkpointPath: checkpoint)
        limits.apply(to: &settings)
        return settings
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

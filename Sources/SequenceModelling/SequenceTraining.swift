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

    package init(train: String, valid: String) { (self.train, self.valid) = (train, valid) }

    package func run(progress: ProgressSink) throws {
        let trainSet = try readSequenceFile(train, features: features)
        let validSet = try readSequenceFile(valid, features: features, classNames: trainSet.classNames)
        guard case let .classes(_, classCount) = trainSet.labels else {
            throw SettingsError("\(train): holds regression targets; seq train classifies for now (regression is the next step of issue 26)")
        }
        guard validSet.steps == trainSet.steps, validSet.features == trainSet.features, case let .classes(_, validClasses) = validSet.labels,
              validClasses <= classCount else {
            throw SettingsError("\(valid): sequences of \(validSet.steps) × \(validSet.features) or its classes do not match \(train) (\(trainSet.steps) × \(trainSet.features), \(classCount) classes)")
        }
        let run = try TrainingRun(checkpoint: checkpoint, resume: resume, kind: "seq")
        var config = try run.resumed?.model(SequenceClassifierConfig.self)
            ?? SequenceClassifierConfig(inputSize: trainSet.features, hiddenSize: hidden, classCount: classCount, dt: dt)
        if let saved = run.resumed {
            try architecture.checkResume(cell: config.cell, layers: config.layers, path: saved.path)
        } else {
            config.cell = architecture.cell ?? .lem
            config.layers = architecture.layers ?? 1
            config.layerDropout = architecture.dropoutLayer ?? 0
        }
        if let problem = config.problem { throw SettingsError(problem) }
        let model = SequenceClassifier(config: config)
        var rng = RandomGenerator(seed: seed)
        model.initialize(&rng)
        let tool = try run.resumed?.tool(SequenceToolData.self)
            ?? SequenceToolData(steps: trainSet.steps, features: trainSet.features, classCount: classCount,
                                classNames: trainSet.classNames ?? [], data: train)
        let task = SequenceClassificationTask(model: model, tool: tool, train: trainSet, valid: validSet, batchSize: batch)
        let header = [
            "seq train: \(train): \(trainSet.count) sequences of \(trainSet.steps) steps × \(trainSet.features) features, \(classCount) classes; valid \(validSet.count) (\(valid))",
            "model: \(config.layers) × \(config.cell.displayName) hidden \(config.hiddenSize)\(config.cell == .lem ? ", dt \(config.dt)" : ""); \(formatCount(Double(model.parameters.scalarCount))) parameters",
            "training: adam lr \(lr)\(decayAt.isEmpty ? "" : " ×\(lrDecay) after epochs \(decayAt)"), batch \(batch) = \(task.batchesPerEpoch) batches/epoch, \(epochs) epochs, clip \(clip.map { "\($0)" } ?? "none"); checkpoint \(checkpoint)",
        ]
        var settings = TrainerSettings(epochs: epochs, learningRate: lr, schedule: decayAt.isEmpty ? .constant : .stepDecay(milestones: decayAt, factor: lrDecay),
                                       optimizer: OptimizerSettings(kind: .adam), clip: clip, seed: seed, checkpointPath: checkpoint)
        limits.apply(to: &settings)
        let outcome = try run.train(task, settings: settings, header: header, progress: progress)
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

/// `seq eval` as one call: accuracy and mean cross-entropy of a checkpoint on a file, and, if
/// asked, each sequence's predicted class and class probabilities.
package struct SequenceEvaluation {
    package var checkpoint: String
    package var data: String
    package var features: Int?

    package init(checkpoint: String, data: String) { (self.checkpoint, self.data) = (checkpoint, data) }

    package func run(predictions: ((Int, Int32, [Float]) -> Void)? = nil) throws -> (accuracy: Double, loss: Double, count: Int) {
        let (model, tool) = try loadSequenceClassifier(checkpoint)
        let set = try readSequenceFile(data, features: features, classNames: tool.classNames)
        try check(model, reads: set, source: data)
        let C = model.config.classCount
        let (accuracy, loss) = evaluateClassifier(model, set) { i, best, logits in
            guard let predictions else { return }
            var p = Array(UnsafeBufferPointer(start: logits, count: C))
            let top = p.max() ?? 0
            var sum: Float = 0
            for c in p.indices { p[c] = Float(exp(Double(p[c] - top))); sum += p[c] }
            predictions(i, best, p.map { $0 / sum })
        }
        return (accuracy, loss, set.count)
    }
}

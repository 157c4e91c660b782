import Foundation
import LEMModel
import TaskSupport

/// Outputs per sequence of a regression set: K, or T·K at every step.
func outputsPerSequence(_ data: SequenceDataset) -> Int {
    guard let (k, everyStep) = data.regressionShape else { return 0 }
    return everyStep ? k * data.steps : k
}

/// Refuses regression data the model cannot read.
package func check(_ model: SequenceRegressor, reads data: SequenceDataset, source: String) throws {
    guard data.features == model.config.inputSize, let (k, everyStep) = data.regressionShape, k == model.config.outputSize,
          everyStep == model.config.everyStep else {
        let wanted = "\(model.config.inputSize) features per step, \(model.config.outputSize) target(s)\(model.config.everyStep ? " at every step" : " per sequence")"
        throw SettingsError("\(source): \(data.features) features per step and its targets do not match the model (\(wanted))")
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
    /// What to evaluate: a file, or one of a paper task's sets.
    package var source: Source
    package var features: Int?
    /// Run the model's products in int8 (per-row symmetric weights, activations per step); a
    /// quantised checkpoint (`seq quantize`) always runs so.
    package var int8 = false

    package enum Source {
        case file(String)
        /// The task's `split` from its data folder (nil: the task's default).
        case task(PaperTask, data: String?, split: TaskSplitName)
    }

    package init(checkpoint: String, source: Source) { (self.checkpoint, self.source) = (checkpoint, source) }

    /// How errors and reports name the data.
    package var data: String {
        switch source {
        case let .file(path): return path
        case let .task(task, _, split): return "\(task.rawValue) \(split.rawValue)"
        }
    }

    private func dataset(regression: Bool, classNames: [String]?) throws -> SequenceDataset {
        switch source {
        case let .file(path): return try readSequenceFile(path, features: features, regression: regression, classNames: classNames)
        case let .task(task, folder, split):
            let splits = try task.load(data: folder)
            let set: SequenceDataset
            switch split {
            case .train: set = splits.train
            case .valid: set = splits.valid
            case .test:
                guard let test = splits.test else { throw SettingsError("\(folder ?? task.defaultData ?? task.rawValue): no test set (\(task.expectedFiles))") }
                set = try test()
            }
            return try classNames.map { try set.renumbered(to: $0, source: data) } ?? set
        }
    }

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
        if tool.targetWidth != nil {
            let model = try checkpointFile.sequenceRegressor()
            if int8 || checkpointFile.isQuantized { model.quantizeForInference() }
            let set = try dataset(regression: true, classNames: nil)
            try check(model, reads: set, source: data)
            let sse = evaluateRegressor(model, set) { i, values in predictions?(i, .values(values)) }
            let mse = sse / Double(max(set.count * outputsPerSequence(set), 1))
            return Result(metricName: "RMSE", metric: mse.squareRoot(), loss: mse, count: set.count)
        }
        let (model, _) = try loadSequenceClassifier(checkpoint)
        if int8 || checkpointFile.isQuantized { model.quantizeForInference() }
        let set = try dataset(regression: false, classNames: tool.classNames)
        try check(model, reads: set, source: data)
        let C = model.config.classCount
        let (accuracy, loss) = evaluateClassifier(model, set) { i, best, logits in
            predictions?(i, .classProbabilities(best, softmax(logits, count: C)))
        }
        return Result(metricName: "accuracy", metric: accuracy, loss: loss, count: set.count)
    }
}


extension SequenceEvaluation {
    /// The class names a `seq` checkpoint records (empty for a regressor).
    package static func classNames(checkpoint: String) throws -> [String] {
        try Checkpoint.read(path: checkpoint, expectedKind: "seq").tool(SequenceToolData.self).classNames
    }
}

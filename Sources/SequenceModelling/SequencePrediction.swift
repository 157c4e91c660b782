import Foundation
import LEMModel
import TaskSupport

/// `seq predict` as one call: a checkpoint's prediction for each sequence of a file that need not
/// carry labels — an `.npz` with `x` alone, a `.csv` of values only (one sequence per line), or
/// any labelled file `seq eval` reads (its labels ignored) — or of one of a task's sets.
package struct SequencePrediction {
    package var checkpoint: String
    package var source: SequenceEvaluation.Source
    package var features: Int?
    /// Run the model's products in int8.
    package var int8 = false

    package init(checkpoint: String, source: SequenceEvaluation.Source) { (self.checkpoint, self.source) = (checkpoint, source) }

    /// Visits each sequence's prediction in order; returns the class names (empty for a regressor).
    @discardableResult
    package func run(_ visit: @escaping (Int, SequenceEvaluation.Prediction) -> Void) throws -> [String] {
        let file = try Checkpoint.read(path: checkpoint, expectedKind: "seq")
        let tool = try file.tool(SequenceToolData.self)
        var evaluation = SequenceEvaluation(checkpoint: checkpoint, source: source)
        evaluation.features = features
        evaluation.int8 = int8
        guard case let .file(path) = source, let unlabelled = try unlabelledSequences(path, tool: tool) else {
            _ = try evaluation.run(predictions: visit)
            return tool.classNames
        }
        // Labels the loss needs but nobody reads: class 0, or zero targets.
        var set = unlabelled
        if let width = tool.targetWidth {
            let model = try file.sequenceRegressor()
            if int8 || file.isQuantized { model.quantizeForInference() }
            let perSequence = model.config.everyStep ? width * set.steps : width
            set.labels = model.config.everyStep ? .stepTargets([Float](repeating: 0, count: set.count * perSequence), width: width)
                                                : .targets([Float](repeating: 0, count: set.count * perSequence), width: width)
            try check(model, reads: set, source: path)
            _ = evaluateRegressor(model, set) { i, values in visit(i, .values(values)) }
        } else {
            let (model, _) = try loadSequenceClassifier(checkpoint)
            if int8 || file.isQuantized { model.quantizeForInference() }
            set.labels = .classes([Int32](repeating: 0, count: set.count), classCount: model.config.classCount)
            try check(model, reads: set, source: path)
            _ = evaluateClassifier(model, set) { i, best, logits in
                visit(i, .classProbabilities(best, softmax(logits, count: model.config.classCount)))
            }
        }
        return tool.classNames
    }

    /// The sequences of an unlabelled `.npz` (no `y`) or `.csv` (values only); nil for a file
    /// `seq eval` reads as it is.
    private func unlabelledSequences(_ path: String, tool: SequenceToolData) throws -> SequenceDataset? {
        switch (path as NSString).pathExtension.lowercased() {
        case "npz":
            let arrays = try readNumPyArchive(path: path)
            guard arrays["y"] == nil else { return nil }
            guard let x = arrays["x"] else { throw SequenceDataError(path, "expected an array x, found \(arrays.keys.sorted())") }
            return try unlabelledNumPySequences(x: x, source: path + "[x]")
        case "csv":
            let text = String(decoding: try readBytes(path), as: UTF8.self)
            return try parseUnlabelledCSV(text, source: path, features: features ?? tool.features, labelledSteps: tool.steps)
        default:
            return nil
        }
    }
}

/// softmax(logits) `[C]` (the library's `softmaxInPlace` on a copy).
func softmax(_ logits: UnsafePointer<Float>, count C: Int) -> [Float] {
    var p = Array(UnsafeBufferPointer(start: logits, count: C))
    p.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: C) }
    return p
}

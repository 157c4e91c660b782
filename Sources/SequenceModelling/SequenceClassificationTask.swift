import Foundation
import LEMModel
import TaskSupport

/// What `seq` stores in a checkpoint besides the model: the data's shape and where it came from.
package struct SequenceToolData: Codable, Sendable, Equatable {
    package var steps: Int
    package var features: Int
    package var classCount: Int
    /// The classes' names in class order (what eval and predict report and read other files by).
    package var classNames: [String]
    /// Regression: the number of targets per sequence (nil for classification).
    package var targetWidth: Int?
    /// The training file (for the record).
    package var data: String
}

/// Sequence classification for the shared training loop: shuffled minibatches of a
/// `SequenceDataset`, data-parallel on all cores (`ParallelSequenceClassifier`), the class read
/// from the last step (`LastStepClassifier`), validation accuracy as the metric.
package final class SequenceClassificationTask: TrainingTask {
    package let kind = "seq"
    package let unitName = "steps"
    package let model: SequenceClassifier
    package let parallel: ParallelSequenceClassifier
    package let tool: SequenceToolData
    package let train: SequenceDataset, valid: SequenceDataset
    package let labels: [Int32]
    package let batchSize: Int
    private var order: [Int] = []
    package let fingerprint: UInt64

    package init(model: SequenceClassifier, tool: SequenceToolData, train: SequenceDataset, valid: SequenceDataset, batchSize: Int) {
        guard case let .classes(labels, _) = train.labels else { preconditionFailure("a classification task needs classes") }
        (self.model, self.tool, self.train, self.valid, self.labels, self.batchSize) = (model, tool, train, valid, labels, batchSize)
        parallel = ParallelSequenceClassifier(model)
        var f = Fingerprint()
        f.combine(train.values)
        f.combine(labels)
        f.combine([train.count, batchSize])
        fingerprint = f.value
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws {
        var rng = RandomGenerator(seed: seed, stream: UInt64(epoch))
        order = Array(0..<train.count)
        rng.shuffle(&order)
    }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let indices = Array(order[index * batchSize ..< min((index + 1) * batchSize, train.count)])
        let x = timeMajor(train, indices)
        let y = indices.map { labels[$0] }
        let loss = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                parallel.trainStep(features: xp.baseAddress!, labels: yp.baseAddress!, steps: train.steps, batch: indices.count, rng: &rng)
            }
        }
        return BatchStats(lossSum: loss, lossCount: indices.count, units: indices.count * train.steps)
    }

    package func validate() -> Evaluation {
        let (accuracy, loss) = evaluateClassifier(model, valid)
        return Evaluation(loss: loss, metric: accuracy, metricName: "accuracy", higherIsBetter: true,
                          summary: String(format: "valid accuracy %.2f%% (N=%d)", 100 * accuracy, valid.count))
    }

    package func describeLoss(_ meanLoss: Double) -> String { "" }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    package func restore(from checkpoint: Checkpoint) throws {}
}

/// Sequences `indices` of `data` as one time-major batch `[T, B, F]`.
package func timeMajor(_ data: SequenceDataset, _ indices: [Int]) -> [Float] {
    var x = [Float](repeating: 0, count: data.steps * indices.count * data.features)
    data.values.withUnsafeBufferPointer { src in
        x.withUnsafeMutableBufferPointer { copyTimeMajor(src.baseAddress!, indices: indices, steps: data.steps, features: data.features, into: $0.baseAddress!) }
    }
    return x
}

/// Accuracy and mean cross-entropy of `model` on a classification set, in chunks, without dropout;
/// with `predictions`, also each sequence's predicted class and logits.
package func evaluateClassifier(_ model: SequenceClassifier, _ data: SequenceDataset, chunk: Int = 256,
                        predictions: ((Int, Int32, UnsafePointer<Float>) -> Void)? = nil) -> (accuracy: Double, loss: Double) {
    guard case let .classes(labels, _) = data.labels, data.count > 0 else { return (0, .nan) }
    var correct = 0
    let loss = data.values.withUnsafeBufferPointer {
        model.evaluate(sequences: $0.baseAddress!, labels: labels, count: data.count, steps: data.steps, features: data.features, chunk: chunk) { i, best, logits in
            if Int32(best) == labels[i] { correct += 1 }
            predictions?(i, Int32(best), logits)
        }
    }
    return (Double(correct) / Double(data.count), loss / Double(data.count))
}

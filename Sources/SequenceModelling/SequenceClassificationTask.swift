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
    /// The training file or task (for the record).
    package var data: String
    /// The paper task the model was trained on (nil: files).
    package var task: PaperTask?
}

/// Sequence classification for the shared training loop: shuffled minibatches of a
/// `SequenceDataset`, data-parallel on all cores (`ParallelSequenceClassifier`), the class read
/// from the last step (`LastStepClassifier`), validation accuracy as the metric.
///
/// Under MPI every rank holds the data and draws the same order; rank r trains on its positions
/// `group.share(of: B)` of each batch and validates its share of the validation set, and the
/// sums are reduced (the trainer averages the gradients).
package final class SequenceClassificationTask: TrainingTask {
    package let kind = "seq"
    package let unitName = "steps"
    package let model: SequenceClassifier
    package let parallel: ParallelSequenceClassifier
    package let tool: SequenceToolData
    package let train: SequenceDataset, valid: SequenceDataset
    package let labels: [Int32]
    private var batches: ShuffledBatches
    package let fingerprint: UInt64
    package let group: ProcessGroup

    package init(model: SequenceClassifier, tool: SequenceToolData, train: SequenceDataset, valid: SequenceDataset, batchSize: Int,
                 group: ProcessGroup = .single) {
        guard case let .classes(labels, _) = train.labels else { preconditionFailure("a classification task needs classes") }
        (self.model, self.tool, self.train, self.labels, self.group) = (model, tool, train, labels, group)
        self.valid = valid.subset(Array(group.share(of: valid.count)))
        batches = ShuffledBatches(count: train.count, batchSize: batchSize)
        parallel = ParallelSequenceClassifier(model)
        var f = Fingerprint()
        f.combine(train.values)
        f.combine(labels)
        f.combine([train.count, batchSize])
        fingerprint = f.value
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { batches.perEpoch }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws { batches.shuffle(seed: seed, epoch: epoch) }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        guard let (indices, positions) = batches.share(index, group) else { return BatchStats(lossSum: 0, lossCount: 0, units: 0) }
        let x = timeMajor(train, indices)
        let y = indices.map { labels[$0] }
        let loss = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                parallel.trainStep(features: xp.baseAddress!, labels: yp.baseAddress!, steps: train.steps, batch: indices.count, rng: &rng,
                                   firstStream: positions.lowerBound)
            }
        }
        return BatchStats(lossSum: loss, lossCount: indices.count, units: indices.count * train.steps)
    }

    package func validate() -> Evaluation {
        let (accuracy, loss) = evaluateClassifier(model, valid)
        var sums = [accuracy * Double(valid.count), loss * Double(valid.count), Double(valid.count)]
        group.sum(&sums)
        let n = max(sums[2], 1)
        return Evaluation(loss: sums[1] / n, metric: sums[0] / n, metricName: "accuracy", higherIsBetter: true,
                          summary: String(format: "valid accuracy %.2f%% (N=%d)", 100 * sums[0] / n, Int(sums[2])))
    }

    package func describeLoss(_ meanLoss: Double) -> String { "" }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    package func restore(from checkpoint: Checkpoint) throws {}
}

/// An epoch's minibatches: the sequences shuffled afresh for each epoch from (seed, epoch), so a
/// resumed run sees the same order, then cut into batches of `batchSize` (the last may be short).
struct ShuffledBatches {
    let count: Int, batchSize: Int
    private var order: [Int] = []

    init(count: Int, batchSize: Int) { (self.count, self.batchSize) = (count, batchSize) }

    var perEpoch: Int { (count + batchSize - 1) / batchSize }

    mutating func shuffle(seed: UInt64, epoch: Int) {
        var rng = RandomGenerator(seed: seed, stream: UInt64(epoch))
        order = Array(0..<count)
        rng.shuffle(&order)
    }

    /// The sequences of batch `index` of the current epoch.
    func indices(_ index: Int) -> [Int] { Array(order[index * batchSize ..< min((index + 1) * batchSize, count)]) }

    /// This rank's sequences of batch `index` (all of it without MPI) and their positions in the
    /// batch; nil when the last, short batch leaves this rank none.
    func share(_ index: Int, _ group: ProcessGroup) -> (indices: [Int], positions: Range<Int>)? {
        let batch = indices(index)
        let positions = group.share(of: batch.count)
        return positions.isEmpty ? nil : (Array(batch[positions]), positions)
    }
}

/// Sequences `indices` of `data` as one time-major batch `[T, B, F]`.
package func timeMajor(_ data: SequenceDataset, _ indices: [Int]) -> [Float] {
    var x = [Float](repeating: 0, count: data.steps * indices.count * data.features)
    x.withUnsafeMutableBufferPointer { data.copyTimeMajor(indices, into: $0.baseAddress!) }
    return x
}

/// Accuracy and mean cross-entropy of `model` on a classification set, in chunks, without dropout;
/// with `predictions`, also each sequence's predicted class and logits.
package func evaluateClassifier(_ model: SequenceClassifier, _ data: SequenceDataset, chunk: Int? = nil,
                        predictions: ((Int, Int32, UnsafePointer<Float>) -> Void)? = nil) -> (accuracy: Double, loss: Double) {
    guard case let .classes(labels, _) = data.labels, data.count > 0 else { return (0, .nan) }
    var correct = 0
    let loss = model.evaluate(labels: labels, count: data.count, steps: data.steps, features: data.features, chunk: chunk ?? evaluationChunk(steps: data.steps),
                              fill: { range, out in data.copyTimeMajor(range, into: out) }) { i, best, logits in
        if Int32(best) == labels[i] { correct += 1 }
        predictions?(i, Int32(best), logits)
    }
    return (Double(correct) / Double(data.count), loss / Double(data.count))
}

/// Sequences evaluated at once: 256, fewer for long sequences so that the activations of a chunk
/// stay near 2¹⁸ sequence-steps (EigenWorms' 17,984 steps: 14 at a time, ~60 MB, not 900).
func evaluationChunk(steps: Int) -> Int { max(1, min(256, (1 << 18) / max(steps, 1))) }

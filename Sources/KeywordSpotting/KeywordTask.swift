import Audio
import Foundation
import LEMModel
import TaskSupport

/// Keyword spotting for the shared training loop: shuffled minibatches of precomputed features,
/// data-parallel on all cores (`ParallelSequenceClassifier`), validation accuracy as the metric.
///
/// Under MPI every rank holds the whole (gathered) training features and the same shuffled
/// order; rank r trains on its positions `group.share(of: B)` of each batch and validates on its
/// share of the validation clips (`valid` then holds only those), and the sums are reduced.
package final class KeywordTask: TrainingTask {
    package let kind = "kws"
    package let unitName = "frames"
    package let model: SequenceClassifier
    package let parallel: ParallelSequenceClassifier
    package let tool: KWSToolData
    package let batchSize: Int
    /// Training features; replaced by a fresh augmented draw every `reaugmentEvery` epochs.
    package var train: SplitFeatures
    package let valid: SplitFeatures
    package let reaugment: ((Int) throws -> SplitFeatures)?
    package let reaugmentEvery: Int
    /// Which augmentation draw `train` holds (draw k serves epochs k·every+1 … (k+1)·every).
    package var currentDraw = 0
    package var order: [Int] = []
    package let group: ProcessGroup
    package let fingerprint: UInt64

    package init(model: SequenceClassifier, tool: KWSToolData, train: SplitFeatures, valid: SplitFeatures, batchSize: Int,
         reaugmentEvery: Int, reaugment: ((Int) throws -> SplitFeatures)?, group: ProcessGroup = .single) throws {
        guard batchSize % group.size == 0 else {
            throw TrainingError(description: "--batch \(batchSize) does not split evenly over \(group.size) MPI ranks: use a multiple of \(group.size)")
        }
        self.group = group
        var f = Fingerprint()
        f.combine(train.labels)
        f.combine(train.values)
        f.combine([train.count, batchSize, reaugmentEvery])   // (`valid` is this rank's share)
        fingerprint = f.value
        self.model = model
        parallel = ParallelSequenceClassifier(model)
        self.tool = tool
        self.train = train
        self.valid = valid
        self.batchSize = batchSize
        self.reaugmentEvery = reaugmentEvery
        self.reaugment = reaugment
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws {
        // Draws depend only on (seed, draw, clip), so a resumed run sees the same data.
        if reaugmentEvery > 0, let reaugment, (epoch - 1) / reaugmentEvery != currentDraw {
            let draw = (epoch - 1) / reaugmentEvery
            // The old draw goes first: one draw of the training features in memory at a time
            // (3.7 GB of log-mels for the full dataset's 92k training examples).
            train.values = []
            train = try reaugment(draw)
            currentDraw = draw
        }
        var rng = RandomGenerator(seed: seed, stream: UInt64(epoch))
        order = Array(0..<train.count)
        rng.shuffle(&order)
    }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let batch = order[index * batchSize ..< min((index + 1) * batchSize, train.count)]
        // This rank's positions of the batch (all of it without MPI); the last batch may leave a rank none.
        let positions = group.share(of: batch.count)
        guard !positions.isEmpty else { return BatchStats(lossSum: 0, lossCount: 0, units: 0) }
        let indices = Array(batch.dropFirst(positions.lowerBound).prefix(positions.count))
        let x = timeMajorBatch(train, indices: indices)
        let y = indices.map { Int32(train.labels[$0]) }
        let B = indices.count
        let loss = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                parallel.trainStep(features: xp.baseAddress!, labels: yp.baseAddress!, steps: train.frames, batch: B, rng: &rng,
                                   firstStream: positions.lowerBound)
            }
        }
        return BatchStats(lossSum: loss, lossCount: B, units: B * train.frames)
    }

    package func validate() -> Evaluation {
        let report = evaluate(model, valid, labels: tool.labels).summed(over: group)
        return Evaluation(loss: report.loss, metric: report.accuracy, metricName: "accuracy", higherIsBetter: true,
                          summary: String(format: "valid accuracy %.2f%% (N=%d)", 100 * report.accuracy, report.count))
    }

    package func describeLoss(_ meanLoss: Double) -> String { "" }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    package func restore(from checkpoint: Checkpoint) throws {}
}

import Audio
import Foundation
import LEMModel

/// Keyword spotting for the shared training loop: shuffled minibatches of precomputed features,
/// data-parallel on all cores (`ParallelSequenceClassifier`), validation accuracy as the metric.
///
/// Under MPI every rank holds the whole (gathered) training features and the same shuffled
/// order; rank r trains on its positions `group.share(of: B)` of each batch and validates on its
/// share of the validation clips (`valid` then holds only those), and the sums are reduced.
final class KeywordTask: TrainingTask {
    let kind = "kws"
    let unitName = "frames"
    let model: SequenceClassifier
    let parallel: ParallelSequenceClassifier
    let tool: KWSToolData
    let batchSize: Int
    /// Training features; replaced by a fresh augmented draw every `reaugmentEvery` epochs.
    var train: SplitFeatures
    let valid: SplitFeatures
    let reaugment: ((Int) throws -> SplitFeatures)?
    let reaugmentEvery: Int
    /// Which augmentation draw `train` holds (draw k serves epochs k·every+1 … (k+1)·every).
    var currentDraw = 0
    var order: [Int] = []
    let group: ProcessGroup
    let fingerprint: UInt64

    init(model: SequenceClassifier, tool: KWSToolData, train: SplitFeatures, valid: SplitFeatures, batchSize: Int,
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

    var parameters: ParameterBlock { model.parameters }
    var batchesPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

    func beginEpoch(_ epoch: Int, seed: UInt64) throws {
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

    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
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

    func validate() -> Evaluation {
        let report = evaluate(model, valid, labels: tool.labels).summed(over: group)
        return Evaluation(loss: report.loss, metric: report.accuracy, metricName: "accuracy", higherIsBetter: true,
                          summary: String(format: "valid accuracy %.2f%% (N=%d)", 100 * report.accuracy, report.count))
    }

    func describeLoss(_ meanLoss: Double) -> String { "" }

    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    func restore(from checkpoint: Checkpoint) throws {}
}

import Audio
import Foundation
import LEMModel

/// Keyword spotting for the shared training loop: shuffled minibatches of precomputed features,
/// data-parallel on all cores (`ParallelSequenceClassifier`), validation accuracy as the metric.
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

    init(model: SequenceClassifier, tool: KWSToolData, train: SplitFeatures, valid: SplitFeatures, batchSize: Int,
         reaugmentEvery: Int, reaugment: ((Int) throws -> SplitFeatures)?) {
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

    func beginEpoch(_ epoch: Int, seed: UInt64) {
        // Draws depend only on (seed, draw, clip), so a resumed run sees the same data.
        if reaugmentEvery > 0, let reaugment, (epoch - 1) / reaugmentEvery != currentDraw {
            let draw = (epoch - 1) / reaugmentEvery
            do {
                train = try reaugment(draw)
                currentDraw = draw
            } catch {
                writeStandardError("kws: warning: re-augmenting the training clips failed (\(error)); keeping the previous draw\n")
            }
        }
        var rng = RandomGenerator(seed: seed, stream: UInt64(epoch))
        order = Array(0..<train.count)
        rng.shuffle(&order)
    }

    func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let indices = Array(order[index * batchSize ..< min((index + 1) * batchSize, train.count)])
        let x = timeMajorBatch(train, indices: indices)
        let y = indices.map { Int32(train.labels[$0]) }
        let B = indices.count
        let loss = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                parallel.trainStep(features: xp.baseAddress!, labels: yp.baseAddress!, steps: train.frames, batch: B, rng: &rng)
            }
        }
        return BatchStats(lossSum: loss, lossCount: B, units: B * train.frames)
    }

    func validate() -> Evaluation {
        let report = evaluate(model, valid, labels: tool.labels)
        return Evaluation(loss: report.loss, metric: report.accuracy, metricName: "accuracy", higherIsBetter: true,
                          summary: String(format: "valid accuracy %.2f%% (N=%d)", 100 * report.accuracy, report.count))
    }

    func describeLoss(_ meanLoss: Double) -> String { "" }

    func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    func restore(from checkpoint: Checkpoint) throws {}
}

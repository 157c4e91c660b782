import Foundation
import LEMModel
import TaskSupport

/// Sequence regression for the shared training loop: shuffled minibatches of a `SequenceDataset`
/// with target vectors, one model (multi-threaded BLAS), the targets read out from the last step
/// (`LastStepRegressor`), the mean squared error as the loss and its root over the validation
/// set's outputs as the metric (the authors' heart-rate figure, √(Σ squared error / N)).
package final class SequenceRegressionTask: TrainingTask {
    package let kind = "seq"
    package let unitName = "steps"
    package let model: SequenceRegressor
    package let tool: SequenceToolData
    package let train: SequenceDataset, valid: SequenceDataset
    package let targets: [Float]
    package let width: Int
    private var batches: ShuffledBatches
    package let fingerprint: UInt64

    package init(model: SequenceRegressor, tool: SequenceToolData, train: SequenceDataset, valid: SequenceDataset, batchSize: Int) {
        guard case let .targets(targets, width) = train.labels else { preconditionFailure("a regression task needs targets") }
        (self.model, self.tool, self.train, self.valid, self.targets, self.width) = (model, tool, train, valid, targets, width)
        batches = ShuffledBatches(count: train.count, batchSize: batchSize)
        var f = Fingerprint()
        f.combine(train.values)
        f.combine(targets)
        f.combine([train.count, batchSize])
        fingerprint = f.value
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { batches.perEpoch }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws { batches.shuffle(seed: seed, epoch: epoch) }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let indices = batches.indices(index)
        let x = timeMajor(train, indices)
        let y = indices.flatMap { targets[$0 * width ..< ($0 + 1) * width] }
        let loss = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { model.forward(features: xp.baseAddress!, targets: $0.baseAddress!, steps: train.steps, batch: indices.count,
                                                      training: true, rng: &rng) }
        }
        model.backward()
        return BatchStats(lossSum: loss, lossCount: indices.count * width, units: indices.count * train.steps)
    }

    package func validate() -> Evaluation {
        let sse = evaluateRegressor(model, valid)
        let mse = sse / Double(max(valid.count * width, 1))
        return Evaluation(loss: mse, metric: mse.squareRoot(), metricName: "RMSE", higherIsBetter: false,
                          summary: String(format: "valid RMSE %.5g (N=%d)", mse.squareRoot(), valid.count))
    }

    package func describeLoss(_ meanLoss: Double) -> String { String(format: "RMSE %.4g", meanLoss.squareRoot()) }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    package func restore(from checkpoint: Checkpoint) throws {}
}

/// Summed squared error of `model` over a regression set's outputs, in chunks, without dropout;
/// with `predictions`, also each sequence's predicted vector.
package func evaluateRegressor(_ model: SequenceRegressor, _ data: SequenceDataset, chunk: Int = 256,
                       predictions: ((Int, [Float]) -> Void)? = nil) -> Double {
    guard case let .targets(targets, width) = data.labels else { return .nan }
    var sse = 0.0
    var rng = RandomGenerator(seed: 0)
    var start = 0
    while start < data.count {
        let indices = Array(start ..< min(start + chunk, data.count))
        let x = timeMajor(data, indices)
        let y = Array(targets[start * width ..< (start + indices.count) * width])
        sse += x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { model.forward(features: xp.baseAddress!, targets: $0.baseAddress!, steps: data.steps, batch: indices.count,
                                                      training: false, rng: &rng) }
        }
        if let predictions {
            for (b, i) in indices.enumerated() { predictions(i, Array(UnsafeBufferPointer(start: model.predictions + b * width, count: width))) }
        }
        start += indices.count
    }
    return sse
}

import Foundation
import LEMModel
import TaskSupport

/// Sequence regression for the shared training loop: shuffled minibatches of a `SequenceDataset`
/// with target vectors, one model (multi-threaded BLAS), the targets read out from the last step
/// (`LastStepRegressor`) or at every step (per-step targets), the mean squared error as the loss
/// and its root over the validation set's outputs as the metric (the authors' heart-rate figure,
/// √(Σ squared error / N); for FitzHugh-Nagumo the root over every step of every sequence).
/// Under MPI each rank trains its share of every batch and validates its share of the
/// validation set, as `SequenceClassificationTask`.
package final class SequenceRegressionTask: TrainingTask {
    package let kind = "seq"
    package let unitName = "steps"
    package let model: SequenceRegressor
    package let tool: SequenceToolData
    package let train: SequenceDataset, valid: SequenceDataset
    /// Outputs per sequence: K, or T·K at every step.
    package let width: Int
    private var batches: ShuffledBatches
    package let fingerprint: UInt64
    package let group: ProcessGroup

    package init(model: SequenceRegressor, tool: SequenceToolData, train: SequenceDataset, valid: SequenceDataset, batchSize: Int,
                 group: ProcessGroup = .single) {
        guard let (k, everyStep) = train.regressionShape else { preconditionFailure("a regression task needs targets") }
        (self.model, self.tool, self.train, self.width, self.group) = (model, tool, train, everyStep ? train.steps * k : k, group)
        self.valid = valid.subset(Array(group.share(of: valid.count)))
        batches = ShuffledBatches(count: train.count, batchSize: batchSize)
        var f = Fingerprint()
        f.combine(train.values)
        f.combine(train.allTargets)
        f.combine([train.count, batchSize])
        fingerprint = f.value
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { batches.perEpoch }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws { batches.shuffle(seed: seed, epoch: epoch) }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        guard let (indices, _) = batches.share(index, group) else { return BatchStats(lossSum: 0, lossCount: 0, units: 0) }
        let x = timeMajor(train, indices)
        let y = targetBatch(train, indices)
        // The backward reads the features again (the input weights' gradient), so it runs while
        // `x` is certainly alive: after the closure Swift may free it, and a backward reading
        // freed memory gave a NaN gradient now and then (CI, check-exports).
        let loss = x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer {
                let loss = model.forward(features: xp.baseAddress!, targets: $0.baseAddress!, steps: train.steps, batch: indices.count,
                                         training: true, rng: &rng)
                model.backward()
                return loss
            }
        }
        return BatchStats(lossSum: loss, lossCount: indices.count * width, units: indices.count * train.steps)
    }

    package func validate() -> Evaluation {
        var sums = [evaluateRegressor(model, valid), Double(valid.count)]
        group.sum(&sums)
        let mse = sums[0] / max(sums[1] * Double(width), 1)
        return Evaluation(loss: mse, metric: mse.squareRoot(), metricName: "RMSE", higherIsBetter: false,
                          summary: String(format: "valid RMSE %.5g (N=%d)", mse.squareRoot(), Int(sums[1])))
    }

    package func describeLoss(_ meanLoss: Double) -> String { String(format: "RMSE %.4g", meanLoss.squareRoot()) }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: model.config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    package func restore(from checkpoint: Checkpoint) throws {}
}

extension SequenceDataset {
    /// Every regression target in file order (empty for classification).
    var allTargets: [Float] {
        switch labels {
        case .classes: return []
        case let .targets(t, _), let .stepTargets(t, _): return t
        }
    }
}

/// The targets of sequences `indices` as the model reads them: `[B, K]`, or time-major `[T, B, K]`
/// for targets at every step.
package func targetBatch(_ data: SequenceDataset, _ indices: [Int]) -> [Float] {
    switch data.labels {
    case .classes: return []
    case let .targets(t, width): return indices.flatMap { t[$0 * width ..< ($0 + 1) * width] }
    case let .stepTargets(t, width):
        var y = [Float](repeating: 0, count: data.steps * indices.count * width)
        t.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { copyTimeMajor(src.baseAddress!, indices: indices, steps: data.steps, features: width, into: $0.baseAddress!) }
        }
        return y
    }
}

/// Summed squared error of `model` over a regression set's outputs, in chunks, without dropout;
/// with `predictions`, also each sequence's predicted vector (`[K]`, or `[T, K]` at every step).
package func evaluateRegressor(_ model: SequenceRegressor, _ data: SequenceDataset, chunk: Int? = nil,
                       predictions: ((Int, [Float]) -> Void)? = nil) -> Double {
    guard let (k, everyStep) = data.regressionShape else { return .nan }
    var sse = 0.0
    var rng = RandomGenerator(seed: 0)
    var start = 0
    while start < data.count {
        let indices = Array(start ..< min(start + (chunk ?? evaluationChunk(steps: data.steps)), data.count))
        let x = timeMajor(data, indices)
        let y = targetBatch(data, indices)
        sse += x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { model.forward(features: xp.baseAddress!, targets: $0.baseAddress!, steps: data.steps, batch: indices.count,
                                                      training: false, rng: &rng) }
        }
        if let predictions {
            let B = indices.count
            for (b, i) in indices.enumerated() {
                if everyStep {
                    predictions(i, (0..<data.steps).flatMap { t in UnsafeBufferPointer(start: model.predictions + (t * B + b) * k, count: k) })
                } else {
                    predictions(i, Array(UnsafeBufferPointer(start: model.predictions + b * k, count: k)))
                }
            }
        }
        start += indices.count
    }
    return sse
}

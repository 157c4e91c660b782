import Foundation
import LEMModel
import TaskSupport

/// The model of an `adding` checkpoint: one recurrent layer and a linear read-out.
package struct AddingConfig: Codable, Sendable, Equatable {
    package var cell: CellKind
    package var hiddenSize: Int
    package var dt: Float
}

/// What `adding` stores besides the model: the task's settings (a resumed run keeps them) and
/// the test MSE before training (the curve's first point).
package struct AddingToolData: Codable, Sendable, Equatable {
    package var length: Int
    package var batch: Int
    package var evalEvery: Int
    package var testSize: Int
    package var initialTestMSE: Double
}

/// The adding problem on the shared training loop: an "epoch" is `evalEvery` steps, each a
/// fresh batch of sequences (sequence i of step s is a function of the seed and its index, so a
/// resumed run sees the same data); validation is the MSE on the fixed test set.
package final class AddingTask: TrainingTask {
    package let kind = "adding"
    package let unitName = "sequences"
    package let model: AddingModel
    package let config: AddingConfig
    package let tool: AddingToolData
    package let test: AddingBatch
    package let seed: UInt64
    private var epoch = 1

    package init(model: AddingModel, config: AddingConfig, tool: AddingToolData, seed: UInt64) {
        (self.model, self.config, self.tool, self.seed) = (model, config, tool, seed)
        test = AddingBatch(length: tool.length, first: 0, count: tool.testSize, seed: AddingBatch.testSeed)
    }

    package var parameters: ParameterBlock { model.parameters }
    package var batchesPerEpoch: Int { tool.evalEvery }
    package var fingerprint: UInt64 {
        var f = Fingerprint()
        f.combine([UInt64(tool.length), UInt64(tool.batch), UInt64(tool.evalEvery), UInt64(tool.testSize), seed])
        return f.value
    }

    package func beginEpoch(_ epoch: Int, seed: UInt64) throws { self.epoch = epoch }

    package func trainBatch(_ index: Int, rng: inout RandomGenerator) -> BatchStats {
        let step = (epoch - 1) * tool.evalEvery + index + 1
        let data = AddingBatch(length: tool.length, first: (step - 1) * tool.batch, count: tool.batch, seed: seed)
        let mse = model.trainStep(data)
        return BatchStats(lossSum: mse * Double(tool.batch), lossCount: tool.batch, units: tool.batch)
    }

    package func validate() -> Evaluation {
        let mse = model.meanSquaredError(test, chunk: tool.batch)
        return Evaluation(loss: mse, metric: mse, metricName: "test MSE", higherIsBetter: false,
                          summary: String(format: "test MSE %.6f (%@ sequences)", mse, formatCount(Double(tool.testSize))))
    }

    package func describeLoss(_ meanLoss: Double) -> String { "" }

    package func makeCheckpoint(optimizer: Optimizer?, training: TrainingProgress?) -> Checkpoint {
        Checkpoint(kind: kind, model: config, tool: tool, parameters: model.parameters, optimizer: optimizer, training: training)
    }

    package func restore(from checkpoint: Checkpoint) throws {}
}

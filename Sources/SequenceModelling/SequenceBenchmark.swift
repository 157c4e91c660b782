import Foundation
import LEMModel
import TaskSupport

/// The shape of one training batch of a paper task: steps, features, hidden size, batch, and
/// what is read out.
package struct SequenceBenchShape: Sendable {
    package var steps: Int, features: Int, hidden: Int, batch: Int
    /// Classes (classification) or 0 (regression).
    package var classes: Int
    package var everyStep = false
    package var dt: Float

    /// The task's data shape with the recipe's hidden size and batch; `short`: tiny, for CI.
    package init(task: PaperTask, recipe: SequenceRecipe, short: Bool = false) {
        switch task {
        case .smnist, .psmnist: (steps, features, classes) = (784, 1, 10)
        case .ncifar: (steps, features, classes) = (1000, 96, 10)
        case .eigenworms: (steps, features, classes) = (17984, 6, 5)
        case .heartRate: (steps, features, classes) = (4000, 2, 0)
        case .fhn: (steps, features, classes, everyStep) = (1000, 1, 0, true)
        }
        (hidden, batch, dt) = (recipe.hidden, recipe.batch, recipe.dt)
        if short { (steps, hidden, batch) = (min(steps, 50), min(hidden, 8), min(batch, 4)) }
    }
}

/// One training step of a task's model on random data — forward, backward through time and
/// Adam, through the same models and data-parallel split `seq train` uses — timed.
package struct SequenceBenchmark {
    package let shape: SequenceBenchShape
    package let cell: CellKind

    package init(shape: SequenceBenchShape, cell: CellKind) { (self.shape, self.cell) = (shape, cell) }

    /// Mean seconds per training batch, after two untimed ones.
    package func secondsPerBatch(minimumSeconds: Double, minimumRuns: Int) throws -> Double {
        let s = shape
        var rng = RandomGenerator(seed: 1)
        let x = (0..<(s.steps * s.batch * s.features)).map { _ in rng.normal() }
        if s.classes > 0 {
            var config = SequenceClassifierConfig(inputSize: s.features, hiddenSize: s.hidden, classCount: s.classes, dt: s.dt)
            config.cell = cell
            let model = SequenceClassifier(config: config)
            model.initialize(&rng)
            let parallel = ParallelSequenceClassifier(model)
            let y = (0..<s.batch).map { _ in Int32(rng.below(s.classes)) }
            let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
            return timeSteps(minimumSeconds: minimumSeconds, minimumRuns: minimumRuns) {
                model.parameters.zeroGrads()
                _ = parallel.trainStep(features: x, labels: y, steps: s.steps, batch: s.batch, rng: &rng)
                adam.step(model.parameters, learningRate: 1e-3)
            }
        }
        var config = SequenceRegressorConfig(inputSize: s.features, hiddenSize: s.hidden, outputSize: 1, dt: s.dt, everyStep: s.everyStep)
        config.cell = cell
        let model = SequenceRegressor(config: config)
        model.initialize(&rng)
        let y = (0..<((s.everyStep ? s.steps : 1) * s.batch)).map { _ in rng.normal() }
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
        return timeSteps(minimumSeconds: minimumSeconds, minimumRuns: minimumRuns) {
            model.parameters.zeroGrads()
            x.withUnsafeBufferPointer { xp in   // (alive until the backward has read it)
                _ = model.forward(features: xp.baseAddress!, targets: y, steps: s.steps, batch: s.batch, training: true, rng: &rng)
                model.backward()
            }
            adam.step(model.parameters, learningRate: 1e-3)
        }
    }

    private func timeSteps(minimumSeconds: Double, minimumRuns: Int, _ body: () -> Void) -> Double {
        for _ in 0..<2 { body() }
        var runs = 0
        let t0 = monotonicSeconds()
        while runs < minimumRuns || monotonicSeconds() - t0 < minimumSeconds {
            body()
            runs += 1
        }
        return (monotonicSeconds() - t0) / Double(runs)
    }
}

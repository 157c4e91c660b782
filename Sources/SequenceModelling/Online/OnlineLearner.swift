import Foundation
import LEMModel
import Runtime

/// Settings of `OnlineLearner`: the model (a `SequenceRegressor` reading F values per step and
/// predicting the next F at every step) and how it learns.
package struct OnlineSettings: Sendable {
    package var features: Int
    package var hiddenSize = 32
    package var layers = 1
    package var cell: CellKind = .lem
    package var dt: Float = 0.5
    package var learningRate: Float = 1e-3
    /// Truncated BPTT: an update every `window` steps, over those steps, from the state the model
    /// was in before them.
    package var window = 20
    /// Global gradient-norm clip per update (0: none).
    package var clip: Float = 1
    package var seed: UInt64 = 1
    package init(features: Int) { self.features = features }

    package var problem: String? {
        if features < 1 { return "--features must be at least 1" }
        if hiddenSize < 1 { return "--hidden must be at least 1" }
        if window < 1 { return "--window must be at least 1" }
        if !(learningRate > 0 && learningRate.isFinite) { return "--lr must be positive" }
        if !(clip >= 0 && clip.isFinite) { return "--clip must be ≥ 0" }
        var config = SequenceRegressorConfig(inputSize: features, hiddenSize: hiddenSize, outputSize: features, dt: dt, everyStep: true)
        (config.cell, config.layers) = (cell, layers)
        return config.problem
    }
}

/// Learning while predicting on an endless stream of vectors (prequential evaluation; the survey's
/// "online continual learning"): each new vector x_t is first scored against the prediction the
/// model made for it from x_{t−1} (the squared error, before any learning from x_t), then it joins
/// the current window of (input x_{t−1}, target x_t) pairs; every `window` pairs one Adam step of
/// truncated BPTT runs over them from the state the model was in before them, and the state after
/// them carries on. Memory is bounded: one window of vectors, the model and its optimizer.
package final class OnlineLearner {
    package let settings: OnlineSettings
    package let model: SequenceRegressor
    let optimizer: Optimizer
    var rng: RandomGenerator
    /// The state after the last vector seen (predictions step it), and the state before the current window.
    var live: RecurrentState, windowStart: RecurrentState
    var inputs: [Float] = [], targets: [Float] = []
    var previous: [Float]?, prediction: [Float]?
    package private(set) var steps = 0, updates = 0

    package init(settings: OnlineSettings) {
        precondition(settings.problem == nil, settings.problem ?? "")
        self.settings = settings
        var config = SequenceRegressorConfig(inputSize: settings.features, hiddenSize: settings.hiddenSize, outputSize: settings.features,
                                             dt: settings.dt, everyStep: true)
        (config.cell, config.layers) = (settings.cell, settings.layers)
        model = SequenceRegressor(config: config)
        rng = RandomGenerator(seed: settings.seed)
        model.initialize(&rng)
        optimizer = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
        live = model.zeroState(batch: 1)
        windowStart = live
        inputs.reserveCapacity(settings.window * settings.features)
        targets.reserveCapacity(settings.window * settings.features)
    }

    /// What `observe` learnt from one vector.
    package struct Step {
        /// Mean over the features of (prediction − x_t)², nil for the first vector.
        package var squaredError: Double?
        /// The same for predicting "no change" (x_{t−1}): the baseline a model must beat.
        package var persistenceError: Double?
    }

    /// Scores the prediction made for `x` (then learns from it when a window is complete) and
    /// predicts the next vector from it (`nextPrediction`).
    @discardableResult
    package func observe(_ x: [Float]) -> Step {
        precondition(x.count == settings.features)
        var step = Step()
        if let prediction { step.squaredError = meanSquare(prediction, x) }
        if let previous {
            step.persistenceError = meanSquare(previous, x)
            inputs += previous
            targets += x
            if inputs.count == settings.window * settings.features { update() }
        }
        prediction = predict(from: x)
        previous = x
        steps += 1
        return step
    }

    /// The model's prediction of the next vector (nil before the first).
    package var nextPrediction: [Float]? { prediction }

    private func meanSquare(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in a.indices { let d = Double(a[i]) - Double(b[i]); sum += d * d }
        return sum / Double(a.count)
    }

    /// One step of the model from the live state: the prediction for the next vector.
    private func predict(from x: [Float]) -> [Float] {
        x.withUnsafeBufferPointer { p in
            _ = model.forward(features: p.baseAddress!, targets: p.baseAddress!, steps: 1, batch: 1, training: false, rng: &rng, state: live)
        }
        model.finalState(into: &live)
        return Array(UnsafeBufferPointer(start: model.predictions, count: settings.features))
    }

    /// Truncated BPTT over the window from the state before it, one Adam step; the state after the
    /// window (as the weights before the step computed it) carries on.
    private func update() {
        let T = settings.window
        model.parameters.zeroGrads()
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                _ = model.forward(features: x.baseAddress!, targets: y.baseAddress!, steps: T, batch: 1, training: true, rng: &rng, state: windowStart)
                model.backward()
            }
        }
        model.finalState(into: &windowStart)
        if settings.clip > 0 { _ = clipGradientNorm(model.parameters, maxNorm: settings.clip) }
        optimizer.step(model.parameters, learningRate: settings.learningRate)
        live = windowStart
        inputs.removeAll(keepingCapacity: true)
        targets.removeAll(keepingCapacity: true)
        updates += 1
    }
}

import Foundation
import LEMModel
import Runtime

/// Settings of `OnlineLearner`: the model (a `SequenceRegressor` reading F values per step and
/// predicting the next F at every step, or, on a label stream, the label of each step) and how it
/// learns.
package struct OnlineSettings: Sendable {
    /// Values per vector of the stream (with `classes`, the features and then the label).
    package var features: Int
    /// A label stream of this many classes: the last value of each vector is the step's class
    /// (0 ..< classes), the others its features; nil: predict the next vector.
    package var classes: Int?
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

    /// The model's input width: the features without the label.
    package var inputSize: Int { classes == nil ? features : features - 1 }

    package var problem: String? {
        if features < 1 { return "--features must be at least 1" }
        if let classes {
            if classes < 2 { return "--classes must be at least 2" }
            if features < 2 { return "a label stream needs at least one feature before the label (vectors of \(features) value)" }
        }
        if hiddenSize < 1 { return "--hidden must be at least 1" }
        if window < 1 { return "--window must be at least 1" }
        if !(learningRate > 0 && learningRate.isFinite) { return "--lr must be positive" }
        if !(clip >= 0 && clip.isFinite) { return "--clip must be ≥ 0" }
        return modelConfig.problem
    }

    var modelConfig: SequenceRegressorConfig {
        var config = SequenceRegressorConfig(inputSize: inputSize, hiddenSize: hiddenSize, outputSize: classes ?? features, dt: dt, everyStep: true)
        (config.cell, config.layers, config.loss) = (cell, layers, classes == nil ? .squaredError : .crossEntropy)
        return config
    }
}

/// Learning while predicting on an endless stream of vectors (prequential evaluation; the survey's
/// "online continual learning"): each new vector x_t is first scored against the prediction the
/// model made for it from x_{t−1} (the squared error, before any learning from x_t), then it joins
/// the current window of (input x_{t−1}, target x_t) pairs; every `window` pairs one Adam step of
/// truncated BPTT runs over them from the state the model was in before them, and the state after
/// them carries on. Memory is bounded: one window of vectors, the model and its optimizer.
///
/// On a label stream (`classes`) each vector is the step's features and then its class: the model
/// reads the features and its prediction of that step's class (softmax of K logits) is scored
/// against the label (cross-entropy, right or wrong) before it learns from it; the windows train on
/// the cross-entropy at every step. The baseline is the most frequent class so far.
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
        model = SequenceRegressor(config: settings.modelConfig)
        classCounts = [Int](repeating: 0, count: settings.classes ?? 0)
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
        /// Label streams: −log of the probability the model gave the step's class, whether its most
        /// probable class was it, and whether the most frequent class so far was it (the baseline).
        package var crossEntropy: Double?, correct: Bool?, majorityCorrect: Bool?
    }

    var classCounts: [Int]
    private let noTarget: [Float] = [0]

    /// Scores the prediction made for `x` (then learns from it when a window is complete) and
    /// predicts the next vector from it (`nextPrediction`).
    @discardableResult
    package func observe(_ x: [Float]) -> Step {
        precondition(x.count == settings.features)
        if let classes = settings.classes { return observeLabelled(x, classes: classes) }
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

    /// A label stream's step: the features `x[0 ..< F]`, then the class `x[F]` (an integer in
    /// 0 ..< classes, checked by the caller).
    private func observeLabelled(_ x: [Float], classes: Int) -> Step {
        let f = settings.inputSize, label = Int(x[f])
        precondition(label >= 0 && label < classes && Float(label) == x[f], "label \(x[f]) is not one of 0..<\(classes)")
        let features = Array(x[0..<f])
        let logits = predict(from: features)
        var top = logits[0], best = 0
        for j in 1..<classes where logits[j] > top { (top, best) = (logits[j], j) }
        var total = 0.0
        for j in 0..<classes { total += exp(Double(logits[j] - top)) }
        var step = Step()
        step.crossEntropy = log(total) - Double(logits[label] - top)
        step.correct = best == label
        step.majorityCorrect = classCounts.indices.max { classCounts[$0] < classCounts[$1] || (classCounts[$0] == classCounts[$1] && $0 > $1) } == label
        classCounts[label] += 1
        inputs += features
        targets.append(Float(label))
        if targets.count == settings.window { update() }
        prediction = logits
        steps += 1
        return step
    }

    private func meanSquare(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in a.indices { let d = Double(a[i]) - Double(b[i]); sum += d * d }
        return sum / Double(a.count)
    }

    /// One step of the model from the live state: the prediction for the next vector.
    private func predict(from x: [Float]) -> [Float] {
        // The loss of this forward is not used: any valid target will do (a class index for labels).
        x.withUnsafeBufferPointer { p in
            (settings.classes == nil ? x : noTarget).withUnsafeBufferPointer { target in
                _ = model.forward(features: p.baseAddress!, targets: target.baseAddress!, steps: 1, batch: 1, training: false, rng: &rng, state: live)
            }
        }
        model.finalState(into: &live)
        return Array(UnsafeBufferPointer(start: model.predictions, count: settings.classes ?? settings.features))
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

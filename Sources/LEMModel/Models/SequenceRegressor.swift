/// Settings of the sequence regressor: per-step features → L recurrent layers (LEM, LSTM or
/// GRU) → linear read-out of K values from the top layer's last hidden state, or from its hidden
/// state at every step (`everyStep`: the FitzHugh-Nagumo task's next-value prediction).
public struct SequenceRegressorConfig: Codable, Sendable, Equatable {
    public var inputSize: Int
    public var hiddenSize: Int
    public var outputSize: Int
    /// The LEM's Δt (unused by the other cells).
    public var dt: Float = 1
    /// Locked dropout between layers (one mask per sequence, shared across time).
    public var layerDropout: Float = 0
    public var cell: CellKind = .lem
    public var layers: Int = 1
    /// Read out K values at every step (targets `[T, B, K]`) rather than once from the last step.
    public var everyStep = false
    /// What the K outputs are trained on: their squared error against K targets (regression), or
    /// as the logits of K classes against one class index per output row (`seq online --classes`).
    public var loss: Loss = .squaredError
    public enum Loss: String, Codable, Sendable { case squaredError = "squared-error", crossEntropy = "cross-entropy" }

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, dt: Float = 1, everyStep: Bool = false) {
        (self.inputSize, self.hiddenSize, self.outputSize, self.dt, self.everyStep) = (inputSize, hiddenSize, outputSize, dt, everyStep)
    }

    private enum CodingKeys: String, CodingKey { case inputSize, hiddenSize, outputSize, dt, layerDropout, cell, layers, everyStep, loss }

    /// Settings added after the first checkpoints keep their declared defaults when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(inputSize: try c.decode(Int.self, forKey: .inputSize), hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                  outputSize: try c.decode(Int.self, forKey: .outputSize), dt: try c.decode(Float.self, forKey: .dt))
        layerDropout = try c.decodeIfPresent(Float.self, forKey: .layerDropout) ?? layerDropout
        cell = try c.decodeIfPresent(CellKind.self, forKey: .cell) ?? cell
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
        everyStep = try c.decodeIfPresent(Bool.self, forKey: .everyStep) ?? everyStep
        loss = try c.decodeIfPresent(Loss.self, forKey: .loss) ?? loss
    }

    public var problem: String? {
        if inputSize < 1 || hiddenSize < 1 || outputSize < 1 { return "input, hidden and output sizes must be positive" }
        if !(dt > 0 && dt.isFinite) { return "dt must be positive (is \(dt))" }
        if !(layerDropout >= 0 && layerDropout < 1) { return "layer dropout must be in [0, 1) (is \(layerDropout))" }
        if !(1...CellKind.maximumLayers).contains(layers) { return "layers must be from 1 to \(CellKind.maximumLayers) (is \(layers))" }
        return nil
    }
}

/// Regression over sequences: recurrent layers from a zero state, then `readout` (Linear d → K)
/// on the top layer's h_T (the paper's heart-rate task) or on its h_t at every step (`everyStep`,
/// the FitzHugh-Nagumo task), mean squared error over all outputs (PyTorch's `nn.MSELoss()`).
///
/// Parameter names: the layers' (see `CellKind`), `readout.weight` [K, d], `readout.bias` [K].
public final class SequenceRegressor: @unchecked Sendable {
    public let config: SequenceRegressorConfig
    public let parameters: ParameterBlock
    let recurrent: RecurrentStack
    let head: LastStepRegressor
    /// ∂L/∂h_T `[B, d]`, or ∂L/∂h_{1…T} `[T, B, d]` with `everyStep`.
    private var hiddenGrad: FloatBuffer?
    /// The shape of the last training `forward` (nil: no backward pending).
    private var pending: (steps: Int, batch: Int)?

    public init(config: SequenceRegressorConfig) {
        precondition(config.problem == nil, config.problem ?? "")
        self.config = config
        parameters = ParameterBlock(Self.layout(config))
        recurrent = RecurrentStack(cell: config.cell, layers: config.layers, inputSize: config.inputSize, hiddenSize: config.hiddenSize,
                                   dt: config.dt, parameters: parameters, stateDropout: 0, layerDropout: config.layerDropout)
        head = LastStepRegressor(linear: Linear(weight: parameters.parameter("readout.weight"), bias: parameters.parameter("readout.bias")))
    }

    /// The parameter tensors of a model with these settings.
    public static func layout(_ config: SequenceRegressorConfig) -> LayoutBuilder {
        var layout = LayoutBuilder()
        RecurrentStack.declare(&layout, cell: config.cell, layers: config.layers, inputSize: config.inputSize,
                               hiddenSize: config.hiddenSize, dt: config.dt)
        Linear.declare(&layout, prefix: "readout.", inputSize: config.hiddenSize, outputSize: config.outputSize)
        return layout
    }

    /// Each cell's initialisation, the read-out as PyTorch's nn.Linear.
    public func initialize(_ rng: inout RandomGenerator) {
        recurrent.initialize(&rng)
        head.linear.initialize(&rng)
    }

    /// Runs every product of the recurrent layers and the read-out on int8 copies of the current
    /// weights (`Int8Matrix`): prediction only, training is refused afterwards.
    public func quantizeForInference() {
        recurrent.quantizeForInference()
        head.linear.quantizeForInference()
    }

    public var isQuantized: Bool { head.linear.isQuantized }

    /// The authors' initialisation (tk-rusch/LEM, every task): each cell's, then the read-out's
    /// weight N(0, 2/d) (`kaiming_normal_`) and bias U(±1/√d).
    public func initializeAsTheAuthors(_ rng: inout RandomGenerator) {
        recurrent.initialize(&rng)
        head.linear.initializeKaimingNormal(&rng)
    }

    /// Forward pass and loss of B sequences of T steps, `features [T, B, m]`, `targets [B, K]`
    /// (`[T, B, K]` with `everyStep`): the summed squared error over the outputs; the predictions
    /// are in `predictions` afterwards. With `training`, prepares the `backward` (of the mean
    /// squared error) that must follow; the features must stay valid and unchanged until it has run.
    /// With the cross-entropy `loss`, `targets` holds one class index per output row (`[B]`, or
    /// `[T, B]` with `everyStep`) and the loss is the summed cross-entropy of the K logits.
    ///
    /// `state`: the layers start from it (a stream learnt window by window, `seq online`) instead
    /// of zeros; `finalState` then gives the state after the last step.
    public func forward(features: UnsafePointer<Float>, targets: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        training: Bool, rng: inout RandomGenerator, state: RecurrentState? = nil) -> Double {
        precondition(!training || !isQuantized, "an int8 model runs inference only")
        var streams = StreamGenerators(seed: training ? rng.next() : 0, first: 0, count: training ? B : 0)
        recurrent.sampleMasks(training: training, batch: B, streams: &streams)
        if let state {
            precondition(state.hidden.count == config.layers * B * config.hiddenSize, "the state's shape is not the model's")
            state.hidden.withUnsafeBufferPointer { h in
                state.cell.withUnsafeBufferPointer { c in
                    recurrent.forward(input: features, steps: T, batch: B, initialHidden: h.baseAddress,
                                      initialCell: config.cell.hasCellState ? c.baseAddress : nil)
                }
            }
        } else {
            recurrent.forward(input: features, steps: T, batch: B, initialHidden: nil, initialCell: nil)
        }
        if config.everyStep {
            head.forward(finalHidden: recurrent.top.outputs, batch: T * B)
        } else {
            head.forward(finalHidden: recurrent.top.finalHidden, batch: B)
        }
        pending = training ? (T, B) : nil
        switch config.loss {
        case .squaredError: return head.loss(targets: targets, training: training)
        case .crossEntropy: return head.crossEntropy(classes: targets, training: training)
        }
    }

    /// Backpropagation of the last training `forward` into the parameter gradients (the caller zeroes them).
    public func backward() {
        guard let (T, B) = pending else { preconditionFailure("SequenceRegressor.backward needs a training forward first (once per forward)") }
        pending = nil
        let dy = ensure(&hiddenGrad, (config.everyStep ? T : 1) * B * config.hiddenSize)
        head.backward(finalHiddenGrad: dy)
        if config.everyStep {
            recurrent.backward(outputGrad: dy, finalHiddenGrad: nil, inputGrad: nil)
        } else {
            recurrent.backward(outputGrad: nil, finalHiddenGrad: dy, inputGrad: nil)
        }
    }

    /// A zero state for `batch` sequences (`forward`'s `state`).
    public func zeroState(batch: Int) -> RecurrentState {
        RecurrentState(layers: config.layers, batch: batch, hiddenSize: config.hiddenSize, hasCellState: config.cell.hasCellState)
    }

    /// The state of every layer after the last `forward`'s last step.
    public func finalState(into state: inout RecurrentState) { recurrent.copyFinalState(into: &state) }

    /// Predictions `[B, K]` of the last `forward` (`[T, B, K]` with `everyStep`).
    public var predictions: UnsafeMutablePointer<Float> { head.predictions }
}

extension Checkpoint {
    /// The sequence regressor stored in this checkpoint, validated before anything is allocated.
    public func sequenceRegressor() throws -> SequenceRegressor {
        let config = try model(SequenceRegressorConfig.self)
        if let problem = config.problem { throw CheckpointError(path: path, problem: "invalid model settings: \(problem)") }
        try checkLayout(SequenceRegressor.layout(config))
        let model = SequenceRegressor(config: config)
        try loadParameters(into: model.parameters)
        return model
    }
}

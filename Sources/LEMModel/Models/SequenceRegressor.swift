/// Settings of the sequence regressor: per-step features → L recurrent layers (LEM, LSTM or
/// GRU) → linear read-out of K values from the top layer's last hidden state.
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

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int, dt: Float = 1) {
        (self.inputSize, self.hiddenSize, self.outputSize, self.dt) = (inputSize, hiddenSize, outputSize, dt)
    }

    public var problem: String? {
        if inputSize < 1 || hiddenSize < 1 || outputSize < 1 { return "input, hidden and output sizes must be positive" }
        if !(dt > 0 && dt.isFinite) { return "dt must be positive (is \(dt))" }
        if !(layerDropout >= 0 && layerDropout < 1) { return "layer dropout must be in [0, 1) (is \(layerDropout))" }
        if !(1...CellKind.maximumLayers).contains(layers) { return "layers must be from 1 to \(CellKind.maximumLayers) (is \(layers))" }
        return nil
    }
}

/// Regression over sequences (the paper's heart-rate task): recurrent layers from a zero state,
/// then `readout` (Linear d → K) on the top layer's h_T, mean squared error over the batch.
///
/// Parameter names: the layers' (see `CellKind`), `readout.weight` [K, d], `readout.bias` [K].
public final class SequenceRegressor: @unchecked Sendable {
    public let config: SequenceRegressorConfig
    public let parameters: ParameterBlock
    let recurrent: RecurrentStack
    let head: LastStepRegressor
    private var finalHiddenGrad: FloatBuffer?
    /// The batch size of the last training `forward` (nil: no backward pending).
    private var pendingBatch: Int?

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

    /// Forward pass and loss of B sequences of T steps, `features [T, B, m]`, `targets [B, K]`:
    /// the summed squared error over the B·K outputs; the predictions are in `predictions`
    /// afterwards. With `training`, prepares the `backward` (of the mean squared error) that must
    /// follow; the features must stay valid and unchanged until it has run.
    public func forward(features: UnsafePointer<Float>, targets: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        training: Bool, rng: inout RandomGenerator) -> Double {
        var streams = StreamGenerators(seed: training ? rng.next() : 0, first: 0, count: training ? B : 0)
        recurrent.sampleMasks(training: training, batch: B, streams: &streams)
        recurrent.forward(input: features, steps: T, batch: B, initialHidden: nil, initialCell: nil)
        head.forward(finalHidden: recurrent.top.finalHidden, batch: B)
        pendingBatch = training ? B : nil
        return head.loss(targets: targets, training: training)
    }

    /// Backpropagation of the last training `forward` into the parameter gradients (the caller zeroes them).
    public func backward() {
        guard let B = pendingBatch else { preconditionFailure("SequenceRegressor.backward needs a training forward first (once per forward)") }
        pendingBatch = nil
        let dy = ensure(&finalHiddenGrad, B * config.hiddenSize)
        head.backward(finalHiddenGrad: dy)
        recurrent.backward(outputGrad: nil, finalHiddenGrad: dy, inputGrad: nil)
    }

    /// Predictions `[B, K]` of the last `forward`.
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

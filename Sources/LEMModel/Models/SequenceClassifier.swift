/// Settings of the sequence classifier: per-frame features → LEM → linear head on the last y.
public struct SequenceClassifierConfig: Codable, Sendable, Equatable {
    public var inputSize: Int
    public var hiddenSize: Int
    public var classCount: Int
    public var dt: Float = 1
    /// Dropout on the input features (plain, per element, as the reference's `nn.Dropout`).
    public var inputDropout: Float = 0

    public init(inputSize: Int, hiddenSize: Int, classCount: Int, dt: Float = 1) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.classCount = classCount
        self.dt = dt
    }

    public var problem: String? {
        if inputSize < 1 || hiddenSize < 1 { return "input and hidden sizes must be positive" }
        if classCount < 2 { return "a classifier needs at least 2 classes (has \(classCount))" }
        if !(dt > 0 && dt.isFinite) { return "dt must be positive (is \(dt))" }
        if !(inputDropout >= 0 && inputDropout < 1) { return "input dropout must be in [0, 1) (is \(inputDropout))" }
        return nil
    }
}

/// The keyword-spotting model of the paper (LEM.md): LEM over the frames from a zero state, then
/// `classifier` (Linear d → C) on y_T, mean softmax cross-entropy over the batch.
///
/// Parameter names: `lem.*` (see `LEMLayer`), `classifier.weight` [C, d], `classifier.bias` [C].
public final class SequenceClassifier: @unchecked Sendable {
    public let config: SequenceClassifierConfig
    public let parameters: ParameterBlock
    /// The recurrent layer (a LEM), reached only through `RecurrentLayer`.
    let recurrent: any RecurrentLayer
    let head: LastStepClassifier
    let inputDropout: Dropout
    private var droppedInput: FloatBuffer?, finalHiddenGrad: FloatBuffer?

    /// A model with its own parameters, or — with `sharing` — a replica sharing another model's
    /// parameter values (data-parallel training).
    public init(config: SequenceClassifierConfig, sharing: SequenceClassifier? = nil) {
        precondition(config.problem == nil, config.problem ?? "")
        precondition(sharing == nil || sharing!.config == config, "a replica needs the same configuration")
        self.config = config
        let lemConfig = LEMConfig(inputSize: config.inputSize, hiddenSize: config.hiddenSize, dt: config.dt)
        parameters = sharing.map { ParameterBlock(sharingValuesWith: $0.parameters) } ?? ParameterBlock(Self.layout(config))
        recurrent = LEMLayer(config: lemConfig, parameters: parameters, prefix: "lem.")
        head = LastStepClassifier(linear: Linear(weight: parameters.parameter("classifier.weight"),
                                                 bias: parameters.parameter("classifier.bias")))
        inputDropout = Dropout(.plain, probability: config.inputDropout)
    }

    /// The parameter tensors of a model with these settings.
    public static func layout(_ config: SequenceClassifierConfig) -> LayoutBuilder {
        var layout = LayoutBuilder()
        LEMLayer.declare(&layout, prefix: "lem.", config: LEMConfig(inputSize: config.inputSize, hiddenSize: config.hiddenSize, dt: config.dt))
        Linear.declare(&layout, prefix: "classifier.", inputSize: config.hiddenSize, outputSize: config.classCount)
        return layout
    }

    /// The reference init: LEM ±1/√d, the head as PyTorch's nn.Linear.
    public func initialize(_ rng: inout RandomGenerator) {
        recurrent.initialize(&rng)
        head.linear.initialize(&rng)
    }

    /// Runs a batch of B sequences of T frames, `features [T, B, m]`, `labels [B]`.
    /// Returns the summed cross-entropy over the batch; logits are in `logits` afterwards. With
    /// `training`, accumulates the gradient of the mean loss into the parameter gradients.
    public func run(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, steps T: Int, batch B: Int,
                    training: Bool, rng: inout RandomGenerator) -> Double {
        var input = features
        if training && inputDropout.isActive {
            let x = ensure(&droppedInput, T * B * config.inputSize)
            inputDropout.applyFreshMask(features, into: x, count: T * B * config.inputSize, rng: &rng)
            input = UnsafePointer(x)
        }
        // `input` stays valid until backward below.
        recurrent.forward(input: input, steps: T, batch: B, initialHidden: nil, initialCell: nil, stateMask: nil, inputStaysValid: true)
        head.forward(finalHidden: recurrent.finalHidden, batch: B)
        let loss = head.loss(labels: labels, training: training)
        guard training else { return loss }
        let dy = ensure(&finalHiddenGrad, B * config.hiddenSize)
        head.backward(finalHiddenGrad: dy)
        recurrent.backward(outputGrad: nil, finalHiddenGrad: dy, finalCellGrad: nil, inputGrad: nil, initialHiddenGrad: nil, initialCellGrad: nil)
        return loss
    }

    /// Logits `[B, C]` without computing a loss (classification); valid until the next call.
    /// A few sequences run with one BLAS thread (their per-step products are too small to split).
    public func logits(features: UnsafePointer<Float>, steps T: Int, batch B: Int) -> UnsafeMutablePointer<Float> {
        let forward = {
            self.recurrent.forward(input: features, steps: T, batch: B, initialHidden: nil, initialCell: nil,
                                   stateMask: nil, inputStaysValid: true)   // no backward
            self.head.forward(finalHidden: self.recurrent.finalHidden, batch: B)
        }
        if B <= Self.singleThreadedBatch { withSingleThreadedBLAS(forward) } else { forward() }
        return head.logits
    }

    /// Largest batch whose forward pass runs with one BLAS thread.
    static let singleThreadedBatch = 16

    /// Logits of the last `run` or `logits` call, `[B, C]`.
    public var lastLogits: UnsafeMutablePointer<Float> { head.logits }
}

extension Checkpoint {
    /// The sequence classifier stored in this checkpoint, validated before anything is allocated.
    public func sequenceClassifier() throws -> SequenceClassifier {
        let config = try model(SequenceClassifierConfig.self)
        if let problem = config.problem { throw CheckpointError(path: path, problem: "invalid model settings: \(problem)") }
        try checkLayout(SequenceClassifier.layout(config))
        let model = SequenceClassifier(config: config)
        try loadParameters(into: model.parameters)
        return model
    }
}

/// Settings of the sequence classifier: per-frame features → L recurrent layers (LEM, LSTM or
/// GRU) → linear head on the top layer's last hidden state.
public struct SequenceClassifierConfig: Codable, Sendable, Equatable {
    public var inputSize: Int
    public var hiddenSize: Int
    public var classCount: Int
    /// The LEM's Δt (unused by the other cells).
    public var dt: Float = 1
    /// Dropout on the input features (plain, per element, as the reference's `nn.Dropout`).
    public var inputDropout: Float = 0
    /// Locked dropout between layers (one mask per sequence, shared across time).
    public var layerDropout: Float = 0
    /// The recurrent cell and how many layers of it (a missing entry, as in checkpoints written
    /// before these existed, means one LEM layer).
    public var cell: CellKind = .lem
    public var layers: Int = 1

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
        if !(layerDropout >= 0 && layerDropout < 1) { return "layer dropout must be in [0, 1) (is \(layerDropout))" }
        if !(1...CellKind.maximumLayers).contains(layers) { return "layers must be from 1 to \(CellKind.maximumLayers) (is \(layers))" }
        return nil
    }

    private enum CodingKeys: String, CodingKey { case inputSize, hiddenSize, classCount, dt, inputDropout, layerDropout, cell, layers }

    /// Settings added after the first checkpoints keep their declared defaults when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(inputSize: try c.decode(Int.self, forKey: .inputSize), hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                  classCount: try c.decode(Int.self, forKey: .classCount), dt: try c.decode(Float.self, forKey: .dt))
        inputDropout = try c.decode(Float.self, forKey: .inputDropout)
        layerDropout = try c.decodeIfPresent(Float.self, forKey: .layerDropout) ?? layerDropout
        cell = try c.decodeIfPresent(CellKind.self, forKey: .cell) ?? cell
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
    }
}

/// The keyword-spotting model of the paper (docs/MODEL.md): recurrent layers over the frames from a zero
/// state, then `classifier` (Linear d → C) on the top layer's h_T (the LEM's y_T), mean softmax
/// cross-entropy over the batch.
///
/// Parameter names: the layers' (see `CellKind`: `lem.*` for one LEM), `classifier.weight` [C, d],
/// `classifier.bias` [C].
public final class SequenceClassifier: @unchecked Sendable {
    public let config: SequenceClassifierConfig
    public let parameters: ParameterBlock
    /// The recurrent layers, reached only through `RecurrentLayer`.
    let recurrent: RecurrentStack
    let head: LastStepClassifier
    let inputDropout: Dropout
    private var droppedInput: FloatBuffer?, finalHiddenGrad: FloatBuffer?
    /// The batch size of the last training `forward` (nil: no backward pending).
    private var pendingBatch: Int?

    /// A model with its own parameters, or — with `sharing` — a replica sharing another model's
    /// parameter values (data-parallel training).
    public init(config: SequenceClassifierConfig, sharing: SequenceClassifier? = nil) {
        precondition(config.problem == nil, config.problem ?? "")
        precondition(sharing == nil || sharing!.config == config, "a replica needs the same configuration")
        self.config = config
        parameters = sharing.map { ParameterBlock(sharingValuesWith: $0.parameters) } ?? ParameterBlock(Self.layout(config))
        recurrent = RecurrentStack(cell: config.cell, layers: config.layers, inputSize: config.inputSize, hiddenSize: config.hiddenSize,
                                   dt: config.dt, parameters: parameters, stateDropout: 0, layerDropout: config.layerDropout)
        head = LastStepClassifier(linear: Linear(weight: parameters.parameter("classifier.weight"),
                                                 bias: parameters.parameter("classifier.bias")))
        inputDropout = Dropout(.plain, probability: config.inputDropout)
    }

    /// Runs every product of the recurrent layers and the head on int8 copies of the current
    /// weights (`Int8Matrix`): classification only, training is refused afterwards.
    public func quantizeForInference() {
        recurrent.quantizeForInference()
        head.linear.quantizeForInference()
    }

    public var isQuantized: Bool { head.linear.isQuantized }

    /// The parameter tensors of a model with these settings.
    public static func layout(_ config: SequenceClassifierConfig) -> LayoutBuilder {
        var layout = LayoutBuilder()
        RecurrentStack.declare(&layout, cell: config.cell, layers: config.layers, inputSize: config.inputSize,
                               hiddenSize: config.hiddenSize, dt: config.dt)
        Linear.declare(&layout, prefix: "classifier.", inputSize: config.hiddenSize, outputSize: config.classCount)
        return layout
    }

    /// The reference init: each cell's (±1/√d), the head as PyTorch's nn.Linear.
    public func initialize(_ rng: inout RandomGenerator) {
        recurrent.initialize(&rng)
        head.linear.initialize(&rng)
    }

    /// The authors' initialisation (tk-rusch/LEM, every task): each cell's, then the read-out's
    /// weight N(0, 2/d) (`kaiming_normal_`) and bias U(±1/√d).
    public func initializeAsTheAuthors(_ rng: inout RandomGenerator) {
        recurrent.initialize(&rng)
        head.linear.initializeKaimingNormal(&rng)
    }

    /// Forward pass and loss of a batch of B sequences of T frames, `features [T, B, m]`,
    /// `labels [B]`. Returns the summed cross-entropy over the batch; the logits are in
    /// `lastLogits` afterwards. With `training`, takes one value from `rng` as the batch's dropout
    /// seed (sequence b draws its masks from `StreamGenerators` stream `firstStream + b`, the same
    /// whichever replica or rank runs it) and prepares the `backward` that must follow; the
    /// features must then stay valid and unchanged until it has run.
    public func forward(features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, steps T: Int, batch B: Int,
                        training: Bool, rng: inout RandomGenerator, firstStream: Int = 0) -> Double {
        precondition(!training || !isQuantized, "an int8 model runs inference only")
        var input = features
        var streams = StreamGenerators(seed: training ? rng.next() : 0, first: firstStream, count: training ? B : 0)
        if training && inputDropout.isActive {
            let x = ensure(&droppedInput, T * B * config.inputSize)
            inputDropout.applyFreshMask(features, into: x, steps: T, batch: B, width: config.inputSize, streams: &streams)
            input = UnsafePointer(x)
        }
        recurrent.sampleMasks(training: training, batch: B, streams: &streams)
        recurrent.forward(input: input, steps: T, batch: B, initialHidden: nil, initialCell: nil)
        head.forward(finalHidden: recurrent.top.finalHidden, batch: B)
        pendingBatch = training ? B : nil
        return head.loss(labels: labels, training: training)
    }

    /// Backpropagation of the last training `forward`: accumulates the gradient of its mean loss
    /// into the parameter gradients (the caller zeroes them).
    public func backward() {
        guard let B = pendingBatch else { preconditionFailure("SequenceClassifier.backward needs a training forward first (once per forward)") }
        pendingBatch = nil
        let dy = ensure(&finalHiddenGrad, B * config.hiddenSize)
        head.backward(finalHiddenGrad: dy)
        recurrent.backward(outputGrad: nil, finalHiddenGrad: dy, inputGrad: nil)
    }

    /// Logits `[B, C]` without computing a loss (classification); valid until the next call.
    /// A few sequences run with one BLAS thread (their per-step products are too small to split).
    public func logits(features: UnsafePointer<Float>, steps T: Int, batch B: Int) -> UnsafeMutablePointer<Float> {
        pendingBatch = nil   // this forward replaced a training forward's activations: no backward now
        let forward = {
            self.recurrent.disableMasks()
            self.recurrent.forward(input: features, steps: T, batch: B, initialHidden: nil, initialCell: nil)   // no backward
            self.head.forward(finalHidden: self.recurrent.top.finalHidden, batch: B)
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

extension SequenceClassifier {
    /// Runs the model without dropout over `count` labelled sequences stored one after another
    /// (`sequences` `[N, T, F]`), `chunk` at a time, and returns their summed cross-entropy;
    /// `visit(i, predicted, logits)` sees each sequence's most likely class (the first of equal
    /// scores) and its logits `[C]`. What every classification task evaluates with.
    public func evaluate(sequences: UnsafePointer<Float>, labels: [Int32], count: Int, steps T: Int, features F: Int, chunk: Int = 256,
                         visit: (Int, Int, UnsafePointer<Float>) -> Void) -> Double {
        evaluate(labels: labels, count: count, steps: T, features: F, chunk: chunk,
                 fill: { range, out in copyTimeMajor(sequences, indices: range, steps: T, features: F, into: out) }, visit: visit)
    }

    /// The same loop over sequences that `fill` writes, a chunk at a time, time-major `[T, n, F]`
    /// for the sequences of the range it is given (sequences not held in memory as `[N, T, F]`).
    public func evaluate(labels: [Int32], count: Int, steps T: Int, features F: Int, chunk: Int = 256,
                         fill: (Range<Int>, UnsafeMutablePointer<Float>) -> Void,
                         visit: (Int, Int, UnsafePointer<Float>) -> Void) -> Double {
        let C = config.classCount
        var loss = 0.0
        var rng = RandomGenerator(seed: 0)   // unused without dropout
        var x = [Float](repeating: 0, count: T * min(chunk, max(count, 1)) * F)
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            x.withUnsafeMutableBufferPointer { fill(start ..< start + n, $0.baseAddress!) }
            loss += x.withUnsafeBufferPointer { xp in
                labels.withUnsafeBufferPointer { forward(features: xp.baseAddress!, labels: $0.baseAddress! + start, steps: T, batch: n, training: false, rng: &rng) }
            }
            for b in 0..<n {
                let row = lastLogits + b * C
                var best = 0
                for c in 1..<C where row[c] > row[best] { best = c }
                visit(start + b, best, UnsafePointer(row))
            }
            start += n
        }
        return loss
    }
}

/// Settings of the language model: embedding → L recurrent layers (LEM, LSTM or GRU) → linear
/// decoder over the vocabulary.
public struct LanguageModelConfig: Codable, Sendable, Equatable {
    public var vocabularySize: Int
    public var embeddingSize: Int
    public var hiddenSize: Int
    /// Share the embedding table with the decoder weight (needs embeddingSize == hiddenSize).
    public var tied: Bool
    /// The LEM's Δt (unused by the other cells).
    public var dt: Float = 1
    /// Dropout on the embeddings (the first layer's input), on the top layer's outputs, on the
    /// recurrent state of every layer where it enters the recurrent product, and between layers.
    /// The state and between-layer masks are locked (one per sequence and window, shared across
    /// time); the input and output masks are as `inputOutputMasks` says.
    public var inputDropout: Float = 0
    public var outputDropout: Float = 0
    public var stateDropout: Float = 0
    public var layerDropout: Float = 0
    /// `.locked`: one input and one output mask per sequence and window, shared across time
    /// (awd-lstm-lm's; what a checkpoint without this entry used); `.plain`: a fresh mask for every
    /// element at every step, as the authors' lamb draws them.
    public var inputOutputMasks: Dropout.Kind = .locked
    /// The recurrent cell and how many layers of it (checkpoints written before these existed
    /// hold one LEM layer, which is what a missing entry means).
    public var cell: CellKind = .lem
    public var layers: Int = 1

    public init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, tied: Bool, dt: Float = 1) {
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.tied = tied
        self.dt = dt
    }

    /// A human-readable problem with the settings, or nil when they are usable.
    public var problem: String? {
        if vocabularySize < 2 { return "the vocabulary needs at least 2 tokens (has \(vocabularySize))" }
        if embeddingSize < 1 || hiddenSize < 1 { return "embedding and hidden sizes must be positive" }
        if tied && embeddingSize != hiddenSize {
            return "tied weights need the embedding size (\(embeddingSize)) to equal the hidden size (\(hiddenSize))"
        }
        if !(dt > 0 && dt.isFinite) { return "dt must be positive (is \(dt))" }
        if !(1...CellKind.maximumLayers).contains(layers) { return "layers must be from 1 to \(CellKind.maximumLayers) (is \(layers))" }
        for (name, p) in [("input", inputDropout), ("output", outputDropout), ("state", stateDropout), ("layer", layerDropout)]
        where !(p >= 0 && p < 1) {
            return "\(name) dropout must be in [0, 1) (is \(p))"
        }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case vocabularySize, embeddingSize, hiddenSize, tied, dt, inputDropout, outputDropout, stateDropout, layerDropout, cell, layers
        case inputOutputMasks
    }

    /// Settings added after the first checkpoints keep their declared defaults when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(vocabularySize: try c.decode(Int.self, forKey: .vocabularySize), embeddingSize: try c.decode(Int.self, forKey: .embeddingSize),
                  hiddenSize: try c.decode(Int.self, forKey: .hiddenSize), tied: try c.decode(Bool.self, forKey: .tied),
                  dt: try c.decode(Float.self, forKey: .dt))
        inputDropout = try c.decode(Float.self, forKey: .inputDropout)
        outputDropout = try c.decode(Float.self, forKey: .outputDropout)
        stateDropout = try c.decode(Float.self, forKey: .stateDropout)
        layerDropout = try c.decodeIfPresent(Float.self, forKey: .layerDropout) ?? layerDropout
        cell = try c.decodeIfPresent(CellKind.self, forKey: .cell) ?? cell
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
        inputOutputMasks = try c.decodeIfPresent(Dropout.Kind.self, forKey: .inputOutputMasks) ?? inputOutputMasks
    }
}

/// The word/char language model of the paper (docs/MODEL.md): embedding → recurrent layers → dropout →
/// linear to the vocabulary, trained with truncated BPTT (the final state of one window starts
/// the next), as pytorch/examples' word_language_model with `--model LSTM|GRU --nlayers`.
///
/// Parameter names: `embedding.weight` [V, m], the layers' (see `CellKind`: `lem.*` for one LEM),
/// and `decoder.weight` [V, d] unless tied, `decoder.bias` [V].
public final class LanguageModel: @unchecked Sendable {
    public let config: LanguageModelConfig
    public let parameters: ParameterBlock
    let embedding: Embedding
    /// The recurrent layers, reached only through `RecurrentLayer`.
    let recurrent: RecurrentStack
    let decoder: Linear
    let inputDropout: Dropout, outputDropout: Dropout
    private var embedded: FloatBuffer?, outputs: FloatBuffer?, logits: FloatBuffer?
    private var outputGrads: FloatBuffer?, embeddedGrads: FloatBuffer?
    /// What `backward` needs of the last training `forward`: its tokens and shape, and which
    /// dropouts it applied (nil: no backward pending).
    private var pending: (tokens: [Int32], steps: Int, batch: Int, input: Bool, output: Bool)?
    /// The logits buffer holds ∂loss/∂logits (since a training forward) instead of logits.
    private var logitsHoldGradient = false

    /// A model with its own parameters, or — with `sharing` — a replica that shares another
    /// model's parameter values (for data-parallel training; it has its own gradients and buffers).
    public init(config: LanguageModelConfig, sharing: LanguageModel? = nil) {
        precondition(config.problem == nil, config.problem ?? "")
        precondition(sharing == nil || sharing!.config == config, "a replica needs the same configuration")
        self.config = config
        parameters = sharing.map { ParameterBlock(sharingValuesWith: $0.parameters) } ?? ParameterBlock(Self.layout(config))
        embedding = Embedding(table: parameters.parameter("embedding.weight"))
        recurrent = RecurrentStack(cell: config.cell, layers: config.layers, inputSize: config.embeddingSize, hiddenSize: config.hiddenSize,
                                   dt: config.dt, parameters: parameters, stateDropout: config.stateDropout, layerDropout: config.layerDropout)
        decoder = Linear(weight: parameters.parameter(config.tied ? "embedding.weight" : "decoder.weight"),
                         bias: parameters.parameter("decoder.bias"))
        inputDropout = Dropout(config.inputOutputMasks, probability: config.inputDropout)
        outputDropout = Dropout(config.inputOutputMasks, probability: config.outputDropout)
    }

    /// Runs every product of the recurrent layers and the decoder on int8 copies of the current
    /// weights (`Int8Matrix`; the embedding lookup stays float): for sampling and evaluation
    /// only, training is refused afterwards.
    public func quantizeForInference() {
        recurrent.quantizeForInference()
        decoder.quantizeForInference()
    }

    public var isQuantized: Bool { decoder.isQuantized }

    /// The zero state of `batch` streams.
    public func initialState(batch: Int) -> RecurrentState {
        RecurrentState(layers: config.layers, batch: batch, hiddenSize: config.hiddenSize, hasCellState: config.cell.hasCellState)
    }

    /// The parameter tensors of a model with these settings.
    public static func layout(_ config: LanguageModelConfig) -> LayoutBuilder {
        let (V, m, d) = (config.vocabularySize, config.embeddingSize, config.hiddenSize)
        var layout = LayoutBuilder()
        Embedding.declare(&layout, name: "embedding.weight", vocabularySize: V, width: m)
        RecurrentStack.declare(&layout, cell: config.cell, layers: config.layers, inputSize: m, hiddenSize: d, dt: config.dt)
        if config.tied { layout.add("decoder.bias", [V]) } else {
            Linear.declare(&layout, prefix: "decoder.", inputSize: d, outputSize: V)
        }
        return layout
    }

    /// pytorch/examples' recipe for the embedding (±0.1) and a zero decoder bias; each cell's
    /// reference init; an untied decoder weight ±0.1 as well.
    public func initialize(_ rng: inout RandomGenerator) {
        embedding.initialize(&rng, range: 0.1)
        recurrent.initialize(&rng)
        if !config.tied {
            rng.fillUniform(UnsafeMutableBufferPointer(start: decoder.weight.value, count: decoder.weight.count), -0.1, 0.1)
        }
        decoder.bias!.value.update(repeating: 0, count: config.vocabularySize)
    }

    /// Forward pass and loss of one window of T steps for B streams: tokens and targets `[T, B]`
    /// (row t·B + b; targets −1 are not scored).
    ///
    /// Returns the summed cross-entropy (nats) over the targets and updates `state` to the final
    /// state. With `training`, takes one value from `rng` as this window's dropout seed (stream b
    /// draws its masks from `StreamGenerators` stream `firstStream + b`, so a replica or MPI rank
    /// holding streams `firstStream…` draws what the whole batch would), and the softmax pass also
    /// computes the gradient of the *mean* loss with respect to the logits (fused, in their
    /// buffer) for the `backward` that must follow.
    public func forward(tokens: UnsafePointer<Int32>, targets: UnsafePointer<Int32>, steps T: Int, batch B: Int,
                        state: inout RecurrentState, training: Bool, rng: inout RandomGenerator, firstStream: Int = 0) -> Double {
        let (V, m, d) = (config.vocabularySize, config.embeddingSize, config.hiddenSize)
        let rows = T * B
        precondition(!training || !isQuantized, "an int8 model runs inference only")
        precondition(state.hidden.count == config.layers * B * d && state.cell.count == (config.cell.hasCellState ? state.hidden.count : 0),
                     "state does not match the batch")
        let e = ensure(&embedded, rows * m)
        let o = ensure(&outputs, rows * d)
        let z = ensure(&logits, rows * V)
        embedding.forward(tokens: tokens, count: rows, output: e)
        let useInput = training && inputDropout.isActive, useOutput = training && outputDropout.isActive
        var streams = StreamGenerators(seed: training ? rng.next() : 0, first: firstStream, count: training ? B : 0)
        if useInput {
            inputDropout.sampleMask(steps: T, batch: B, width: m, streams: &streams)
            inputDropout.apply(e, steps: T, batch: B, width: m)
        }
        recurrent.sampleMasks(training: training, batch: B, streams: &streams)
        state.hidden.withUnsafeBufferPointer { h0 in
            state.cell.withUnsafeBufferPointer { c0 in
                // `e` stays unchanged until recurrent.backward.
                recurrent.forward(input: e, steps: T, batch: B, initialHidden: h0.baseAddress, initialCell: c0.baseAddress)
            }
        }
        // The layers keep their outputs for backward; dropout works on a copy.
        o.update(from: recurrent.top.outputs, count: rows * d)
        recurrent.copyFinalState(into: &state)
        if useOutput {
            outputDropout.sampleMask(steps: T, batch: B, width: d, streams: &streams)
            outputDropout.apply(o, steps: T, batch: B, width: d)
        }
        decoder.forward(input: o, rows: rows, output: z)
        // With training, the softmax pass also writes ∂loss/∂logits and sums the decoder's bias gradient.
        let loss = softmaxCrossEntropy(logits: z, rows: rows, classes: V, targets: targets,
                                       gradientScale: training ? 1 / Float(rows) : nil,
                                       gradientColumnSums: training ? decoder.bias?.grad : nil)
        pending = training ? (Array(UnsafeBufferPointer(start: tokens, count: rows)), T, B, useInput, useOutput) : nil
        logitsHoldGradient = training
        return loss
    }

    /// Backpropagation of the last training `forward`: accumulates the gradient of its mean loss
    /// into the parameter gradients (the caller zeroes them).
    public func backward() {
        guard let (tokens, T, B, useInput, useOutput) = pending else {
            preconditionFailure("LanguageModel.backward needs a training forward first (once per forward)")
        }
        pending = nil
        let (m, d) = (config.embeddingSize, config.hiddenSize)
        let rows = T * B
        let o = outputs!.pointer, dZ = logits!.pointer
        let dO = ensure(&outputGrads, rows * d), dE = ensure(&embeddedGrads, rows * m)
        decoder.backward(input: o, outputGrad: dZ, rows: rows, inputGrad: dO, biasGradientDone: true)
        if useOutput { outputDropout.apply(dO, steps: T, batch: B, width: d) }
        recurrent.backward(outputGrad: dO, finalHiddenGrad: nil, inputGrad: dE)
        if useInput { inputDropout.apply(dE, steps: T, batch: B, width: m) }
        tokens.withUnsafeBufferPointer { embedding.backward(tokens: $0.baseAddress!, count: rows, outputGrad: dE) }
    }

    /// Logits `[T·B, V]` of the last inference `forward` (after a training forward their buffer
    /// holds the loss's gradient, for `backward`).
    public var lastLogits: UnsafeMutablePointer<Float> {
        precondition(!logitsHoldGradient, "after a training forward the logits buffer holds their gradient")
        return logits!.pointer
    }

    /// Logits `[B, V]` for the next token after feeding one token per stream (sampling; no dropout).
    /// The returned pointer is valid until the next call.
    public func nextTokenLogits(after tokens: UnsafePointer<Int32>, batch B: Int, state: inout RecurrentState) -> UnsafeMutablePointer<Float> {
        let (V, m) = (config.vocabularySize, config.embeddingSize)
        let e = ensure(&embedded, B * m), z = ensure(&logits, B * V)
        logitsHoldGradient = false
        pending = nil   // the buffers a backward would read are reused here
        embedding.forward(tokens: tokens, count: B, output: e)
        recurrent.disableMasks()
        state.hidden.withUnsafeBufferPointer { h0 in
            state.cell.withUnsafeBufferPointer { c0 in
                recurrent.forward(input: e, steps: 1, batch: B, initialHidden: h0.baseAddress, initialCell: c0.baseAddress)
            }
        }
        recurrent.copyFinalState(into: &state)
        decoder.forward(input: recurrent.top.outputs, rows: B, output: z)
        return z
    }
}

extension Checkpoint {
    /// The language model stored in this checkpoint, validated before anything is allocated.
    public func languageModel() throws -> LanguageModel {
        let config = try model(LanguageModelConfig.self)
        if let problem = config.problem { throw CheckpointError(path: path, problem: "invalid model settings: \(problem)") }
        try checkLayout(LanguageModel.layout(config))
        let model = LanguageModel(config: config)
        try loadParameters(into: model.parameters)
        return model
    }
}

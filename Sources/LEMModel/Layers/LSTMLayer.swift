/// One LSTM layer over whole sequences, exactly PyTorch's `nn.LSTM` (one direction), with
/// hand-written backpropagation through time.
///
/// Parameters, as `torch.nn.LSTM`'s layer `k` (names `weight_ih_l<k>` … under the model's prefix):
///
///     weight_ih [4d, m], bias_ih [4d], weight_hh [4d, d], bias_hh [4d]   rows = [ i | f | g | o ]
///
/// One step (σ = logistic, ⊙ elementwise), from input u and state (h, c):
///
///     a  = W_ih u + b_ih + W_hh h + b_hh
///     i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
///     c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
///
/// Where the time goes: the input projection of all T steps is one GEMM `[T·B, m]·[m, 4d]`; per
/// step only the recurrent product `[B, d]·[d, 4d]` and the gate math (`LSTMGates.swift`); in
/// backward, per step one product `[B, 4d]·[4d, d]`, and the weight gradients are whole-sequence
/// GEMMs afterwards. The gate buffer `[T, B, 4d]` holds the pre-activations, then the gate
/// activations, then their gradients; the histories h₀…h_T and c₀…c_T are kept for backward.
public final class LSTMLayer: RecurrentLayer, @unchecked Sendable {
    let weights: GatedWeights
    public var config: GatedCellConfig { weights.config }
    public var inputSize: Int { config.inputSize }
    public var hiddenSize: Int { config.hiddenSize }
    public var hasCellState: Bool { true }

    /// Declares layer `layer`'s four tensors under `prefix` (e.g. "rnn." gives "rnn.weight_ih_l0").
    public static func declare(_ layout: inout LayoutBuilder, prefix: String, layer: Int, config: GatedCellConfig) {
        GatedWeights.declare(&layout, prefix: prefix, layer: layer, config: config, gates: 4)
    }

    public init(config: GatedCellConfig, parameters: ParameterBlock, prefix: String, layer: Int) {
        weights = GatedWeights(config: config, parameters: parameters, prefix: prefix, layer: layer)
        hidden = StepWeights(weights.hiddenWeight.value, rows: 4 * config.hiddenSize, columns: config.hiddenSize)
    }

    /// PyTorch's initialisation: every weight and bias uniform in [−1/√d, 1/√d].
    public func initialize(_ rng: inout RandomGenerator) { weights.initialize(&rng) }

    // MARK: - Cached state of the last forward pass

    public private(set) var steps = 0
    public private(set) var batch = 0
    private var activationsValid = false
    private var gates: FloatBuffer?          // [T, B, 4d]
    private var hs: FloatBuffer?             // [T+1, B, d]: h₀ … h_T
    private var cs: FloatBuffer?             // [T+1, B, d]: c₀ … c_T
    private var maskedHs: FloatBuffer?       // [T, B, d]: h₀ … h_{T−1} ⊙ mask (state dropout only)
    private var stateMask: FloatBuffer?      // [B, d]
    private var hasStateMask = false
    private var inputCopy: FloatBuffer?      // [T, B, m] when the caller's input does not stay valid
    private var input: UnsafePointer<Float>?
    private var combinedBias: FloatBuffer?   // [4d]: b_ih + b_hh
    private var columnSums: FloatBuffer?     // [4d]
    private var carryH: FloatBuffer?, carryC: FloatBuffer?  // [B, d]
    /// W_hh [4d, d] as the per-step products use it (its route is `StepWeights`' choice).
    private let hidden: StepWeights
    /// W_ih's int8 copy once `quantizeForInference` has run (inference only).
    private var int8Input: Int8Matrix?

    public var outputs: UnsafeMutablePointer<Float> { hs!.pointer + batch * config.hiddenSize }
    public var finalHidden: UnsafeMutablePointer<Float> { hs!.pointer + steps * batch * config.hiddenSize }
    public var finalCell: UnsafeMutablePointer<Float>? { cs!.pointer + steps * batch * config.hiddenSize }

    // MARK: - Forward

    public func forward(input: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        initialHidden: UnsafePointer<Float>? = nil, initialCell: UnsafePointer<Float>? = nil,
                        stateMask mask: UnsafePointer<Float>? = nil, inputStaysValid: Bool = false) {
        precondition(T > 0 && B > 0, "LSTM forward needs at least one step and one sequence")
        let (m, d) = (config.inputSize, config.hiddenSize)
        let bd = B * d
        precondition(!isQuantized || mask == nil, "an int8 layer runs inference only (no dropout)")
        steps = T; batch = B; hasStateMask = mask != nil; activationsValid = !isQuantized
        let x = ensure(&gates, T * B * 4 * d)
        let h = ensure(&hs, (T + 1) * bd), c = ensure(&cs, (T + 1) * bd)
        let u = keepInput(input, count: T * B * m, staysValid: inputStaysValid, copy: &inputCopy)
        self.input = u
        let recurrentInputs = mask != nil ? ensure(&maskedHs, T * bd) : h
        let storedMask = mask != nil ? ensure(&stateMask, bd) : h
        if let mask { storedMask.update(from: mask, count: bd) }
        if let initialHidden { h.update(from: initialHidden, count: bd) } else { h.update(repeating: 0, count: bd) }
        if let initialCell { c.update(from: initialCell, count: bd) } else { c.update(repeating: 0, count: bd) }
        let bias = ensure(&combinedBias, 4 * d)
        for j in 0..<4 * d { bias[j] = weights.inputBias.value[j] + weights.hiddenBias.value[j] }

        // X[T·B, 4d] = U · W_ihᵀ for the whole sequence (the gate math adds the biases).
        if let int8Input {
            int8Input.multiply(u, rows: T * B, into: x, accumulate: false)
        } else {
            gemm(transposeB: true, m: T * B, n: 4 * d, k: m, u, lda: m, weights.inputWeight.value, ldb: m, beta: 0, x, ldc: 4 * d)
        }
        hidden.beginForward(batch: B, hidden: d, copies: false, accumulate: true)
        for t in 0..<T {
            let hPrev = h + t * bd, cPrev = c + t * bd, xt = x + t * B * 4 * d
            let recurrent = maskedState(hPrev, mask: hasStateMask ? storedMask : nil, into: recurrentInputs + t * bd, count: bd)
            // X_t += h · W_hhᵀ
            hidden.forward(recurrent, rows: B, into: xt)
            for b in 0..<B {
                forEachLaneBlock(d, LSTMGatesForward(row: xt + b * 4 * d, bias: bias, cPrev: cPrev + b * d,
                                                     cNext: cPrev + bd + b * d, hNext: hPrev + bd + b * d, d: d))
            }
        }
    }

    /// Quantises the current weights to int8 (`Int8Matrix`); from then on `forward` multiplies
    /// through them and the layer serves inference only (no backward).
    public func quantizeForInference() {
        let (m, d) = (config.inputSize, config.hiddenSize)
        int8Input = Int8Matrix(weights.inputWeight.value, rows: 4 * d, columns: m)
        hidden.quantize()
    }

    public var isQuantized: Bool { int8Input != nil }

    // MARK: - Backward

    public func backward(outputGrad: UnsafePointer<Float>?,
                         finalHiddenGrad: UnsafePointer<Float>? = nil, finalCellGrad: UnsafePointer<Float>? = nil,
                         inputGrad: UnsafeMutablePointer<Float>? = nil,
                         initialHiddenGrad: UnsafeMutablePointer<Float>? = nil, initialCellGrad: UnsafeMutablePointer<Float>? = nil) {
        precondition(!isQuantized, "an int8 layer runs inference only (no backward)")
        precondition(activationsValid, "LSTM backward needs a forward pass first (once per forward)")
        activationsValid = false
        let (T, B) = (steps, batch)
        let (m, d) = (config.inputSize, config.hiddenSize)
        let bd = B * d
        let x = gates!.pointer, h = hs!.pointer, c = cs!.pointer
        let dh = ensure(&carryH, bd), dc = ensure(&carryC, bd)
        if let finalHiddenGrad { dh.update(from: finalHiddenGrad, count: bd) } else { dh.update(repeating: 0, count: bd) }
        if let finalCellGrad { dc.update(from: finalCellGrad, count: bd) } else { dc.update(repeating: 0, count: bd) }
        let mask: UnsafeMutablePointer<Float>? = hasStateMask ? stateMask!.pointer : nil
        hidden.beginBackward(batch: B, hidden: d, accumulate: false)

        for t in stride(from: T - 1, through: 0, by: -1) {
            let cPrev = c + t * bd, xt = x + t * B * 4 * d
            if let outputGrad { addInPlace(dh, outputGrad + t * bd, count: bd) }
            for b in 0..<B {
                forEachLaneBlock(d, LSTMGatesBackward(row: xt + b * 4 * d, cPrev: cPrev + b * d, cNext: cPrev + bd + b * d,
                                                      hGrad: dh + b * d, cGrad: dc + b * d, d: d))
            }
            // ∂h_{t−1} = ∂X_t · W_hh (⊙ mask): h enters step t only through the recurrent product.
            hidden.backward(xt, rows: B, lda: 4 * d, into: dh, accumulate: false)
            if let mask { multiplyInPlace(dh, mask, count: bd) }
        }
        initialHiddenGrad?.update(from: dh, count: bd)
        initialCellGrad?.update(from: dc, count: bd)

        // Weight gradients over the whole sequence: ∂W_ih += ∂Xᵀ·U, ∂W_hh += ∂Xᵀ·H_prev, biases += Σ rows of ∂X.
        let rows = T * B
        let recurrentInputs = hasStateMask ? maskedHs!.pointer : h
        gemm(transposeA: true, m: 4 * d, n: m, k: rows, x, lda: 4 * d, input!, ldb: m, beta: 1, weights.inputWeight.grad, ldc: m)
        gemm(transposeA: true, m: 4 * d, n: d, k: rows, x, lda: 4 * d, recurrentInputs, ldb: d, beta: 1, weights.hiddenWeight.grad, ldc: d)
        let sums = ensure(&columnSums, 4 * d)
        sums.update(repeating: 0, count: 4 * d)
        addColumnSums(x, rows: rows, columns: 4 * d, stride: 4 * d, into: sums)
        addInPlace(weights.inputBias.grad, sums, count: 4 * d)
        addInPlace(weights.hiddenBias.grad, sums, count: 4 * d)
        if let inputGrad {
            gemm(m: rows, n: m, k: 4 * d, x, lda: 4 * d, weights.inputWeight.value, ldb: m, beta: 0, inputGrad, ldc: m)
        }
    }
}

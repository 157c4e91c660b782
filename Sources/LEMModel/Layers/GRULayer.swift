/// One GRU layer over whole sequences, exactly PyTorch's `nn.GRU` (one direction), with
/// hand-written backpropagation through time. It has no cell state (`hasCellState == false`).
///
/// Parameters, as `torch.nn.GRU`'s layer `k` (names `weight_ih_l<k>` … under the model's prefix):
///
///     weight_ih [3d, m], bias_ih [3d], weight_hh [3d, d], bias_hh [3d]   rows = [ r | z | n ]
///
/// One step (σ = logistic, ⊙ elementwise), from input u and state h; the reset gate scales the
/// whole recurrent candidate term, bias included, as in PyTorch:
///
///     r = σ(W_ir u + b_ir + W_hr h + b_hr)     z = σ(W_iz u + b_iz + W_hz h + b_hz)
///     n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// Where the time goes: the input projection of all T steps is one GEMM `[T·B, m]·[m, 3d]`; per
/// step the recurrent products `[B, d]·[d, 2d]` (into X) and `[B, d]·[d, d]` (the candidate term)
/// and the gate math (`GRUGates.swift`); in backward, per step the two transposed products, and
/// the weight gradients are whole-sequence GEMMs afterwards. Large layers run the per-step
/// products on weights packed once per window by oneDNN (`StepProduct`), as the LEM and LSTM do.
public final class GRULayer: RecurrentLayer, @unchecked Sendable {
    let weights: GatedWeights
    public var config: GatedCellConfig { weights.config }
    public var inputSize: Int { config.inputSize }
    public var hiddenSize: Int { config.hiddenSize }
    public var hasCellState: Bool { false }

    /// Declares layer `layer`'s four tensors under `prefix` (e.g. "rnn." gives "rnn.weight_ih_l0").
    public static func declare(_ layout: inout LayoutBuilder, prefix: String, layer: Int, config: GatedCellConfig) {
        GatedWeights.declare(&layout, prefix: prefix, layer: layer, config: config, gates: 3)
    }

    public init(config: GatedCellConfig, parameters: ParameterBlock, prefix: String, layer: Int) {
        weights = GatedWeights(config: config, parameters: parameters, prefix: prefix, layer: layer)
        let d = config.hiddenSize
        hiddenGates = StepWeights(weights.hiddenWeight.value, rows: 2 * d, columns: d)
        hiddenCandidate = StepWeights(weights.hiddenWeight.value + 2 * d * d, rows: d, columns: d)
    }

    /// PyTorch's initialisation: every weight and bias uniform in [−1/√d, 1/√d].
    public func initialize(_ rng: inout RandomGenerator) { weights.initialize(&rng) }

    // MARK: - Cached state of the last forward pass

    public private(set) var steps = 0
    public private(set) var batch = 0
    private var activationsValid = false
    private var gates: FloatBuffer?          // [T, B, 3d]: input side (+ recurrent r, z), then r, z, n, then gradients
    private var candidates: FloatBuffer?     // [T, B, d]: W_hn h + b_hn, then its gradient
    private var hs: FloatBuffer?             // [T+1, B, d]: h₀ … h_T
    private var maskedHs: FloatBuffer?       // [T, B, d]: h₀ … h_{T−1} ⊙ mask (state dropout only)
    private var stateMask: FloatBuffer?      // [B, d]
    private var hasStateMask = false
    private var inputCopy: FloatBuffer?      // [T, B, m] when the caller's input does not stay valid
    private var input: UnsafePointer<Float>?
    private var combinedBias: FloatBuffer?   // [4d]: b_ir + b_hr | b_iz + b_hz | b_in | b_hn
    private var columnSums: FloatBuffer?     // [3d]
    private var carryH: FloatBuffer?, scratch: FloatBuffer?  // [B, d]
    /// W_hh's r,z rows [2d, d] and its n rows [d, d] (they feed different buffers) as the
    /// per-step products use them (their route is `StepWeights`' choice).
    private let hiddenGates: StepWeights, hiddenCandidate: StepWeights
    /// W_ih's int8 copy once `quantizeForInference` has run (inference only).
    private var int8Input: Int8Matrix?

    public var outputs: UnsafeMutablePointer<Float> { hs!.pointer + batch * config.hiddenSize }
    public var finalHidden: UnsafeMutablePointer<Float> { hs!.pointer + steps * batch * config.hiddenSize }
    public var finalCell: UnsafeMutablePointer<Float>? { nil }

    // MARK: - Forward

    /// `initialCell` must be nil: a GRU has no cell state.
    public func forward(input: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        initialHidden: UnsafePointer<Float>? = nil, initialCell: UnsafePointer<Float>? = nil,
                        stateMask mask: UnsafePointer<Float>? = nil, inputStaysValid: Bool = false) {
        precondition(T > 0 && B > 0, "GRU forward needs at least one step and one sequence")
        precondition(initialCell == nil, "a GRU has no cell state")
        let (m, d) = (config.inputSize, config.hiddenSize)
        let bd = B * d
        precondition(!isQuantized || mask == nil, "an int8 layer runs inference only (no dropout)")
        steps = T; batch = B; hasStateMask = mask != nil; activationsValid = !isQuantized
        let x = ensure(&gates, T * B * 3 * d), cand = ensure(&candidates, T * bd)
        let h = ensure(&hs, (T + 1) * bd)
        let u = keepInput(input, count: T * B * m, staysValid: inputStaysValid, copy: &inputCopy)
        self.input = u
        let recurrentInputs = mask != nil ? ensure(&maskedHs, T * bd) : h
        let storedMask = mask != nil ? ensure(&stateMask, bd) : h
        if let mask { storedMask.update(from: mask, count: bd) }
        if let initialHidden { h.update(from: initialHidden, count: bd) } else { h.update(repeating: 0, count: bd) }
        let bias = ensure(&combinedBias, 4 * d)
        let (bIn, bH) = (weights.inputBias.value, weights.hiddenBias.value)
        for j in 0..<2 * d { bias[j] = bIn[j] + bH[j] }
        for j in 0..<d { bias[2 * d + j] = bIn[2 * d + j]; bias[3 * d + j] = bH[2 * d + j] }

        // X[T·B, 3d] = U · W_ihᵀ for the whole sequence (the gate math adds the biases).
        if let int8Input {
            int8Input.multiply(u, rows: T * B, into: x, accumulate: false)
        } else {
            gemm(transposeB: true, m: T * B, n: 3 * d, k: m, u, lda: m, weights.inputWeight.value, ldb: m, beta: 0, x, ldc: 3 * d)
        }
        hiddenGates.beginForward(batch: B, hidden: d, copies: false, ldc: 3 * d, accumulate: true)
        hiddenCandidate.beginForward(batch: B, hidden: d, copies: false, accumulate: false)
        for t in 0..<T {
            let hPrev = h + t * bd, xt = x + t * B * 3 * d, nt = cand + t * bd
            let recurrent = maskedState(hPrev, mask: hasStateMask ? storedMask : nil, into: recurrentInputs + t * bd, count: bd)
            // X_t[:, 0..<2d] += h · W_h(r,z)ᵀ and N_t = h · W_hnᵀ
            hiddenGates.forward(recurrent, rows: B, into: xt)
            hiddenCandidate.forward(recurrent, rows: B, into: nt)
            for b in 0..<B {
                forEachLaneBlock(d, GRUGatesForward(row: xt + b * 3 * d, candidate: nt + b * d, bias: bias,
                                                    hPrev: hPrev + b * d, hNext: hPrev + bd + b * d, d: d))
            }
        }
    }

    /// Quantises the current weights to int8 (`Int8Matrix`; W_hh as its r,z rows and its n
    /// rows, which feed different buffers); from then on `forward` multiplies through them and
    /// the layer serves inference only (no backward).
    public func quantizeForInference() {
        let (m, d) = (config.inputSize, config.hiddenSize)
        int8Input = Int8Matrix(weights.inputWeight.value, rows: 3 * d, columns: m)
        hiddenGates.quantize()
        hiddenCandidate.quantize()
    }

    public var isQuantized: Bool { int8Input != nil }

    // MARK: - Backward

    /// `finalCellGrad` and `initialCellGrad` must be nil: a GRU has no cell state.
    public func backward(outputGrad: UnsafePointer<Float>?,
                         finalHiddenGrad: UnsafePointer<Float>? = nil, finalCellGrad: UnsafePointer<Float>? = nil,
                         inputGrad: UnsafeMutablePointer<Float>? = nil,
                         initialHiddenGrad: UnsafeMutablePointer<Float>? = nil, initialCellGrad: UnsafeMutablePointer<Float>? = nil) {
        precondition(!isQuantized, "an int8 layer runs inference only (no backward)")
        precondition(activationsValid, "GRU backward needs a forward pass first (once per forward)")
        precondition(finalCellGrad == nil && initialCellGrad == nil, "a GRU has no cell state")
        activationsValid = false
        let (T, B) = (steps, batch)
        let (m, d) = (config.inputSize, config.hiddenSize)
        let bd = B * d
        let x = gates!.pointer, cand = candidates!.pointer, h = hs!.pointer
        let dh = ensure(&carryH, bd), recurrentGrad = ensure(&scratch, bd)
        if let finalHiddenGrad { dh.update(from: finalHiddenGrad, count: bd) } else { dh.update(repeating: 0, count: bd) }
        let mask: UnsafeMutablePointer<Float>? = hasStateMask ? stateMask!.pointer : nil
        // With state dropout the first product goes to a scratch row (C =), without it straight into ∂h (C +=).
        hiddenGates.beginBackward(batch: B, hidden: d, lda: 3 * d, accumulate: mask == nil)
        hiddenCandidate.beginBackward(batch: B, hidden: d, accumulate: true)

        for t in stride(from: T - 1, through: 0, by: -1) {
            let hPrev = h + t * bd, xt = x + t * B * 3 * d, nt = cand + t * bd
            if let outputGrad { addInPlace(dh, outputGrad + t * bd, count: bd) }
            for b in 0..<B {
                forEachLaneBlock(d, GRUGatesBackward(row: xt + b * 3 * d, candidate: nt + b * d, hPrev: hPrev + b * d, hGrad: dh + b * d, d: d))
            }
            // ∂h_{t−1} = g ⊙ z (now in dh) + (∂X_t[:, 0..<2d] · W_h(r,z) + ∂N_t · W_hn) ⊙ mask
            let into = mask == nil ? dh : recurrentGrad
            hiddenGates.backward(xt, rows: B, lda: 3 * d, into: into, accumulate: mask == nil)
            hiddenCandidate.backward(nt, rows: B, lda: d, into: into, accumulate: true)
            if let mask { for j in 0..<bd { dh[j] += recurrentGrad[j] * mask[j] } }
        }
        initialHiddenGrad?.update(from: dh, count: bd)

        // Weight gradients over the whole sequence.
        let rows = T * B
        let recurrentInputs = hasStateMask ? maskedHs!.pointer : h
        gemm(transposeA: true, m: 3 * d, n: m, k: rows, x, lda: 3 * d, input!, ldb: m, beta: 1, weights.inputWeight.grad, ldc: m)
        gemm(transposeA: true, m: 2 * d, n: d, k: rows, x, lda: 3 * d, recurrentInputs, ldb: d, beta: 1, weights.hiddenWeight.grad, ldc: d)
        gemm(transposeA: true, m: d, n: d, k: rows, cand, lda: d, recurrentInputs, ldb: d, beta: 1, weights.hiddenWeight.grad + 2 * d * d, ldc: d)
        let sums = ensure(&columnSums, 3 * d)
        sums.update(repeating: 0, count: 3 * d)
        addColumnSums(x, rows: rows, columns: 3 * d, stride: 3 * d, into: sums)
        addInPlace(weights.inputBias.grad, sums, count: 3 * d)
        addInPlace(weights.hiddenBias.grad, sums, count: 2 * d)
        addColumnSums(cand, rows: rows, columns: d, stride: d, into: weights.hiddenBias.grad + 2 * d)
        if let inputGrad {
            gemm(m: rows, n: m, k: 3 * d, x, lda: 3 * d, weights.inputWeight.value, ldb: m, beta: 0, inputGrad, ldc: m)
        }
    }
}

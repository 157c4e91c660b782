/// Shape and time step of one LEM layer.
public struct LEMConfig: Codable, Sendable, Equatable {
    /// m: features per input step.
    public var inputSize: Int
    /// d: size of each of the two states y and z.
    public var hiddenSize: Int
    /// The scalar Δt that scales both learned time steps (1.0 for PTB and Google12).
    public var dt: Float

    public init(inputSize: Int, hiddenSize: Int, dt: Float = 1) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.dt = dt
    }
}

/// One LEM layer (Rusch et al., ICLR 2022) over whole sequences, with hand-written backpropagation
/// through time.
///
/// Parameters follow the authors' PyTorch `LEMCell` exactly (names, shapes, row order), so a
/// PyTorch `state_dict` maps one to one:
///
///     inp2hid:     W [4d, m], b [4d]   rows = [ ȳ-gate | z-gate | y-candidate | z-candidate ]
///     hid2hid:     W [3d, d], b [3d]   rows = [ ȳ-gate | z-gate | z-candidate ]
///     transform_z: W [d, d],  b [d]    (applied to the new z, feeds the y-candidate)
///
/// One step, for input u and states (y, z) (σ = logistic, ⊙ elementwise, dt = `config.dt`):
///
///     a  = inp2hid(u)                       h = hid2hid(y)
///     Δt̄ = dt·σ(a₀ + h₀)                    Δt = dt·σ(a₁ + h₁)
///     z' = (1 − Δt) ⊙ z + Δt ⊙ tanh(a₃ + h₂)
///     y' = (1 − Δt̄) ⊙ y + Δt̄ ⊙ tanh(transform_z(z') + a₂)
///
/// The output at each step is y'. Where the time goes:
/// - `inp2hid` for all T steps is one GEMM `[T·B, m]·[m, 4d]` before the recurrence (small layers
///   with many sequences: per step, gate by gate, see `forward`);
/// - per step, only what the dependency forces: `[B, d]·[d, 3d]`, the gate math, `[B, d]·[d, d]`;
/// - in backward, the per-step work is the two transposed products, and every weight gradient
///   is one GEMM over the whole sequence afterwards (small layers: over chunks of ~512 rows,
///   see `weightGradientChunk`).
///
/// Memory: the input projection buffer `[T, B, 4d]` is overwritten in place, first with the gate
/// activations (forward), then with the pre-activation gradients (backward), so the cache for
/// backward is that buffer plus the state histories y₀…y_T and z₀…z_T.
///
/// As a `RecurrentLayer`, its hidden state h is the paper's y and its cell state c is z.
public final class LEMLayer: RecurrentLayer, @unchecked Sendable {
    public let config: LEMConfig
    public var inputSize: Int { config.inputSize }
    public var hiddenSize: Int { config.hiddenSize }
    public var hasCellState: Bool { true }
    let inputWeight: Parameter, inputBias: Parameter        // inp2hid
    let hiddenWeight: Parameter, hiddenBias: Parameter      // hid2hid
    let transformWeight: Parameter, transformBias: Parameter // transform_z

    /// Declares the six tensors under `prefix` (e.g. "lem." gives "lem.inp2hid.weight").
    public static func declare(_ layout: inout LayoutBuilder, prefix: String, config: LEMConfig) {
        let (m, d) = (config.inputSize, config.hiddenSize)
        layout.add(prefix + "inp2hid.weight", [4 * d, m])
        layout.add(prefix + "inp2hid.bias", [4 * d])
        layout.add(prefix + "hid2hid.weight", [3 * d, d])
        layout.add(prefix + "hid2hid.bias", [3 * d])
        layout.add(prefix + "transform_z.weight", [d, d])
        layout.add(prefix + "transform_z.bias", [d])
    }

    public init(config: LEMConfig, parameters: ParameterBlock, prefix: String) {
        precondition(config.inputSize > 0 && config.hiddenSize > 0, "LEM sizes must be positive")
        precondition(config.dt > 0 && config.dt.isFinite, "LEM dt must be positive")
        self.config = config
        inputWeight = parameters.parameter(prefix + "inp2hid.weight")
        inputBias = parameters.parameter(prefix + "inp2hid.bias")
        hiddenWeight = parameters.parameter(prefix + "hid2hid.weight")
        hiddenBias = parameters.parameter(prefix + "hid2hid.bias")
        transformWeight = parameters.parameter(prefix + "transform_z.weight")
        transformBias = parameters.parameter(prefix + "transform_z.bias")
        inputProjection = LEMInputProjection(inputWeight, inputSize: config.inputSize, hiddenSize: config.hiddenSize)
        hidden = StepWeights(hiddenWeight.value, rows: 3 * config.hiddenSize, columns: config.hiddenSize)
        transform = StepWeights(transformWeight.value, rows: config.hiddenSize, columns: config.hiddenSize)
    }

    /// The reference initialisation: every weight and bias uniform in [−1/√d, 1/√d].
    public func initialize(_ rng: inout RandomGenerator) {
        let bound = 1 / Float(config.hiddenSize).squareRoot()
        for p in [inputWeight, inputBias, hiddenWeight, hiddenBias, transformWeight, transformBias] {
            rng.fillUniform(UnsafeMutableBufferPointer(start: p.value, count: p.count), -bound, bound)
        }
    }

    /// hid2hid's W_h [3d, d] and transform_z's W_z [d, d] as the per-step products use them
    /// (their route — packed, copied, in place, int8 — is `StepWeights`' choice).
    private let hidden: StepWeights, transform: StepWeights
    /// inp2hid's W_in as X's gate order uses it, with the route of its products.
    private let inputProjection: LEMInputProjection

    // MARK: - What a forward pass keeps for backward

    /// The activations of the last forward pass, time-major, with their shapes.
    private struct Activations {
        var steps = 0, batch = 0
        /// [T, B, 4d]: pre-activations, then activations after forward, then ∂L/∂pre-activations
        /// after backward. Columns in the gate order [ ȳ-gate | z-gate | z-candidate | y-candidate ]:
        /// the first 3d columns line up with hid2hid's rows and the last d with transform_z's, so
        /// the per-step products add into X in place and ∂X serves as ∂hid2hid and ∂transform_z as is.
        var gates: FloatBuffer?
        var ys: FloatBuffer?         // [T+1, B, d]: y₀ … y_T
        var zs: FloatBuffer?         // [T+1, B, d]: z₀ … z_T
        var maskedYs: FloatBuffer?   // [T, B, d]: y₀ … y_{T−1} ⊙ state mask (only with state dropout)
        var stateMask: FloatBuffer?  // [B, d], when the forward pass had one
        var hasStateMask = false
        var inputCopy: FloatBuffer?  // [T, B, m]: copy of the input (for ∂L/∂inp2hid.weight)
        var input: UnsafePointer<Float>? // [T, B, m]: the input (or its copy)
        /// Backward overwrites the gate activations with gradients: one backward per forward.
        var valid = false
    }
    private var saved = Activations()
    public var steps: Int { saved.steps }
    public var batch: Int { saved.batch }

    // Scratch of forward and backward, reused from call to call.
    private var combinedBias: FloatBuffer?     // [4d]: inp2hid.bias + hid2hid/transform_z biases, gate order
    private var columnSums: FloatBuffer?       // [4d]: Σ over rows of ∂X (bias gradients)
    private var carryY: FloatBuffer?, carryZ: FloatBuffer?, scratch: FloatBuffer?  // [B, d]

    /// y₁ … y_T of the last forward pass, `[T, B, d]` (h₁ … h_T of `RecurrentLayer`).
    public var outputs: UnsafeMutablePointer<Float> { saved.ys!.pointer + batch * config.hiddenSize }
    /// y_T and z_T of the last forward pass, `[B, d]` each (the state to carry to the next window).
    public var finalHidden: UnsafeMutablePointer<Float> { saved.ys!.pointer + steps * batch * config.hiddenSize }
    public var finalCell: UnsafeMutablePointer<Float>? { saved.zs!.pointer + steps * batch * config.hiddenSize }

    // MARK: - Forward

    /// Runs the layer over `steps` time steps of `batch` sequences.
    ///
    /// - input: `[T, B, m]`, time-major.
    /// - initialHidden, initialCell: y₀ and z₀ `[B, d]`, or nil for zeros.
    /// - stateMask: `[B, d]` dropout mask (already scaled by 1/(1−p)) applied to y where it enters
    ///   `hid2hid`, the same mask at every step ("locked"/variational dropout of the recurrent
    ///   connection); nil for none. The carried state itself is never dropped.
    /// - inputStaysValid: the caller keeps `input` allocated and unchanged until `backward` has
    ///   returned (or runs no backward), so the layer reads it there instead of keeping a copy.
    /// Results are read from `outputs`, `finalHidden`, `finalCell`.
    public func forward(
        input: UnsafePointer<Float>, steps T: Int, batch B: Int,
        initialHidden: UnsafePointer<Float>? = nil, initialCell: UnsafePointer<Float>? = nil,
        stateMask mask: UnsafePointer<Float>? = nil, inputStaysValid: Bool = false
    ) {
        precondition(T > 0 && B > 0, "LEM forward needs at least one step and one sequence")
        let (m, d) = (config.inputSize, config.hiddenSize)
        let bd = B * d
        precondition(!isQuantized || mask == nil, "an int8 layer runs inference only (no dropout)")
        (saved.steps, saved.batch, saved.hasStateMask, saved.valid) = (T, B, mask != nil, !isQuantized)
        let x = ensure(&saved.gates, T * B * 4 * d)
        let y = ensure(&saved.ys, (T + 1) * bd)
        let z = ensure(&saved.zs, (T + 1) * bd)
        let u: UnsafePointer<Float>
        if inputStaysValid {
            u = input
        } else {
            let copy = ensure(&saved.inputCopy, T * B * m)
            copy.update(from: input, count: T * B * m)
            u = UnsafePointer(copy)
        }
        saved.input = u
        let bias = ensure(&combinedBias, 4 * d)
        let ym = mask != nil ? ensure(&saved.maskedYs, T * bd) : y
        let storedMask = mask != nil ? ensure(&saved.stateMask, bd) : y
        if let mask { storedMask.update(from: mask, count: bd) }

        if let initialHidden { y.update(from: initialHidden, count: bd) } else { y.update(repeating: 0, count: bd) }
        if let initialCell { z.update(from: initialCell, count: bd) } else { z.update(repeating: 0, count: bd) }

        // The three biases summed in the gate order of X (see `Activations.gates`).
        let (bIn, bH, bZ) = (inputBias.value, hiddenBias.value, transformBias.value)
        for i in 0..<d {
            bias[i] = bIn[i] + bH[i]                     // ȳ-gate
            bias[d + i] = bIn[d + i] + bH[d + i]         // z-gate
            bias[2 * d + i] = bIn[3 * d + i] + bH[2 * d + i] // z-candidate
            bias[3 * d + i] = bIn[2 * d + i] + bZ[i]     // y-candidate
        }

        // Over several steps, the per-step products use transposed copies of W_h and W_z, so that
        // they are plain A·B products: OpenBLAS then runs small ones with its small-matrix
        // kernels, which skip the packing (copying) of the weights that every call would
        // otherwise repeat. A single step (sampling), or a single sequence through a large layer
        // (exact evaluation of the char model: matrix-vector products, which pack nothing, and
        // copying 16 MB of weights for each window cost more than it saved), uses the weights as
        // they are. (Layers whose per-step products go through oneDNN's packed weights need no copies.)
        let policy = ProductPolicy.current
        let copies = !isQuantized && T > 1
            && (weightCopiesOverride ?? ((B > 1 || 4 * d * d <= 1 << 20) && !policy.packsWeights(hidden: d, batch: B)))
        hidden.beginForward(batch: B, hidden: d, copies: copies, ldc: 4 * d, accumulate: true, policy: policy)
        transform.beginForward(batch: B, hidden: d, copies: copies, ldc: 4 * d, accumulate: true, policy: policy)
        let hiddenBlocks = perGateProducts ? 3 : 1
        // inp2hid: X[T·B, 4d] = U[T·B, m] · Wᵢₙᵀ for the whole sequence, or step by step below
        // (its route is `LEMInputProjection`'s); the gate math adds the biases.
        inputProjection.forward(u, steps: T, batch: B, copies: copies, smallGates: perGateProducts, into: x)
        let stepwiseInput = inputProjection.stepwise

        let dt = config.dt
        for t in 0..<T {
            let yPrev = y + t * bd, zPrev = z + t * bd
            let yNext = yPrev + bd, zNext = zPrev + bd
            let xt = x + t * B * 4 * d
            if stepwiseInput { inputProjection.forwardStep(u + t * B * m, batch: B, into: xt) }
            var recurrentInput = UnsafePointer(yPrev)
            if mask != nil {
                let dst = ym + t * bd
                for j in 0..<bd { dst[j] = yPrev[j] * storedMask[j] }
                recurrentInput = UnsafePointer(dst)
            }
            // X[:, 0..<3d] += y · W_hᵀ  (hid2hid's rows are in the gate order of X's first 3d columns)
            hidden.forward(recurrentInput, rows: B, into: xt, columnBlocks: hiddenBlocks)
            // Gates of z and the new z; the activations replace the pre-activations in X.
            for b in 0..<B {
                forEachLaneBlock(d, ZGatesForward(row: xt + b * 4 * d, bias: bias, zPrev: zPrev + b * d, zNext: zNext + b * d, d: d, dt: dt))
            }
            // X[:, 3d..<4d] += z' · W_zᵀ  (transform_z, into the y-candidate columns)
            transform.forward(zNext, rows: B, into: xt + 3 * d)
            for b in 0..<B {
                forEachLaneBlock(d, YStateForward(row: xt + b * 4 * d, bias: bias, yPrev: yPrev + b * d, yNext: yNext + b * d, d: d, dt: dt))
            }
        }
    }

    /// Quantises the current weights to int8 (`Int8Matrix`: per-row symmetric); from then on
    /// `forward` multiplies through them and the layer serves inference only (no backward).
    public func quantizeForInference() {
        inputProjection.quantize()
        hidden.quantize()
        transform.quantize()
    }

    public var isQuantized: Bool { inputProjection.isQuantized }

    /// Whether the per-step hid2hid products run gate by gate: three `[B, d]·[d, d]` products
    /// instead of one `[B, d]·[d, 3d]` when each is small enough for OpenBLAS's small-matrix
    /// kernels (B·d·d ≤ 10⁶), which read the weights in place instead of packing (copying) them
    /// at every step (faster at the kws shape, docs/BENCHMARKS.md); larger products (word,
    /// char) keep one call.
    var perGateProducts: Bool { perGateProductsOverride ?? (batch * config.hiddenSize * config.hiddenSize <= 1_000_000) }
    /// Tests force either way with this.
    var perGateProductsOverride: Bool?
    /// Tests force whether several steps use transposed and reordered weight copies.
    var weightCopiesOverride: Bool?

    /// Steps per weight-gradient GEMM in backward. When the weight gradients are small enough to
    /// stay in cache (kws: 0.4 MB), they are accumulated every ~512 rows, while those rows of ∂X
    /// are still in cache; otherwise once over the whole sequence (word, char: their 2–17 MB of
    /// gradients would be re-read for every chunk).
    func weightGradientChunk(steps T: Int, batch B: Int) -> Int {
        let (m, d) = (config.inputSize, config.hiddenSize)
        if let rows = weightGradientChunkRowsOverride { return max(1, min(T, rows / B)) }
        guard 4 * d * (d + m) * MemoryLayout<Float>.size <= 512 * 1024 else { return T }
        return max(1, min(T, 512 / B))
    }
    /// Tests force chunks of this many rows.
    var weightGradientChunkRowsOverride: Int?

    /// Weight gradients of rows `rows` of ∂X (gate order ȳ, z, c_z, c_y), and their column sums.
    private func accumulateWeightGradients(rows: Range<Int>, recurrentInputs: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>) {
        let (m, d) = (config.inputSize, config.hiddenSize)
        let x = saved.gates!.pointer + rows.lowerBound * 4 * d, z = saved.zs!.pointer + (batch + rows.lowerBound) * d
        let u = saved.input! + rows.lowerBound * m, yPrev = recurrentInputs + rows.lowerBound * d
        let k = rows.count
        // ∂W_h[3d, d] += ∂X[:, 0..<3d]ᵀ · Y_prev
        gemm(transposeA: true, m: 3 * d, n: d, k: k, x, lda: 4 * d, yPrev, ldb: d, beta: 1, hiddenWeight.grad, ldc: d)
        // ∂W_z[d, d] += ∂X[:, 3d..<4d]ᵀ · Z (z₁ … z_T)
        gemm(transposeA: true, m: d, n: d, k: k, x + 3 * d, lda: 4 * d, z, ldb: d, beta: 1, transformWeight.grad, ldc: d)
        // ∂W_in[4d, m] += ∂Xᵀ · U, block by block back into inp2hid's row order
        inputProjection.accumulateWeightGradient(x, u, rows: k)
        addColumnSums(x, rows: k, columns: 4 * d, stride: 4 * d, into: sums)
    }

    // MARK: - Backward

    /// Backpropagation through time for the last forward pass.
    ///
    /// - outputGrad: ∂L/∂y_t for every step, `[T, B, d]`, or nil when the loss does not read the
    ///   outputs (e.g. a classifier that reads only the final state).
    /// - finalHiddenGrad, finalCellGrad: ∂L/∂y_T and ∂L/∂z_T from outside the outputs (the final state), or nil.
    /// - inputGrad: receives ∂L/∂input `[T, B, m]` (overwritten), or nil if not needed.
    /// - initialHiddenGrad, initialCellGrad: receive ∂L/∂y₀, ∂L/∂z₀ `[B, d]` (overwritten), or nil.
    /// Parameter gradients are accumulated (`+=`) into the parameter block.
    /// Backward consumes the cached activations: call forward again before another backward.
    public func backward(
        outputGrad: UnsafePointer<Float>?,
        finalHiddenGrad: UnsafePointer<Float>? = nil, finalCellGrad: UnsafePointer<Float>? = nil,
        inputGrad: UnsafeMutablePointer<Float>? = nil,
        initialHiddenGrad: UnsafeMutablePointer<Float>? = nil, initialCellGrad: UnsafeMutablePointer<Float>? = nil
    ) {
        let (T, B) = (steps, batch)
        precondition(!isQuantized, "an int8 layer runs inference only (no backward)")
        precondition(saved.valid, "LEM backward needs a forward pass first (once per forward)")
        let d = config.hiddenSize
        let bd = B * d
        let x = saved.gates!.pointer, y = saved.ys!.pointer, z = saved.zs!.pointer
        let dy = ensure(&carryY, bd), dz = ensure(&carryZ, bd)
        let tmp = ensure(&scratch, bd)
        let mask: UnsafeMutablePointer<Float>? = saved.hasStateMask ? saved.stateMask!.pointer : nil
        if let finalHiddenGrad { dy.update(from: finalHiddenGrad, count: bd) } else { dy.update(repeating: 0, count: bd) }
        if let finalCellGrad { dz.update(from: finalCellGrad, count: bd) } else { dz.update(repeating: 0, count: bd) }

        let dt = config.dt
        let recurrentInputs = saved.hasStateMask ? saved.maskedYs!.pointer : y   // y₀ … y_{T−1} (masked)
        let sums = ensure(&columnSums, 4 * d)
        sums.update(repeating: 0, count: 4 * d)
        let chunk = weightGradientChunk(steps: T, batch: B)
        var chunkEnd = T
        // ∂X's rows times W_z and W_h (packed for large layers; in place, W_h gate by gate when small).
        // With state dropout the W_h product goes to a scratch row first (C =), without it straight into ∂y (C +=).
        let policy = ProductPolicy.current
        transform.beginBackward(batch: B, hidden: d, lda: 4 * d, accumulate: true, policy: policy)
        hidden.beginBackward(batch: B, hidden: d, lda: 4 * d, accumulate: mask == nil, policy: policy)
        let hiddenBlocks = perGateProducts ? 3 : 1
        for t in stride(from: T - 1, through: 0, by: -1) {
            let yPrev = y + t * bd, zPrev = z + t * bd
            let xt = x + t * B * 4 * d
            if let outputGrad {
                let g = outputGrad + t * bd
                for j in 0..<bd { dy[j] += g[j] }
            }
            // y' = (1 − Δt̄)y + Δt̄·c_y: gradients of the ȳ-gate and y-candidate pre-activations.
            for b in 0..<B {
                forEachLaneBlock(d, YStateBackward(row: xt + b * 4 * d, yPrev: yPrev + b * d, yGrad: dy + b * d, d: d, dt: dt))
            }
            // ∂L/∂z' += ∂L/∂a_cy · W_z
            transform.backward(xt + 3 * d, rows: B, lda: 4 * d, into: dz, accumulate: true)
            // z' = (1 − Δt)z + Δt·c_z: gradients of the z-gate and z-candidate pre-activations.
            for b in 0..<B {
                forEachLaneBlock(d, ZGatesBackward(row: xt + b * 4 * d, zPrev: zPrev + b * d, zGrad: dz + b * d, d: d, dt: dt))
            }
            // ∂L/∂y += (∂L/∂X[:, 0..<3d] · W_h) ⊙ mask
            if let mask {
                hidden.backward(xt, rows: B, lda: 4 * d, into: tmp, accumulate: false, rowBlocks: hiddenBlocks)
                for j in 0..<bd { dy[j] += tmp[j] * mask[j] }
            } else {
                hidden.backward(xt, rows: B, lda: 4 * d, into: dy, accumulate: true, rowBlocks: hiddenBlocks)
            }
            if t % chunk == 0 {
                accumulateWeightGradients(rows: t * B..<chunkEnd * B, recurrentInputs: recurrentInputs, sums: sums)
                chunkEnd = t
            }
        }
        if let initialHiddenGrad { initialHiddenGrad.update(from: dy, count: bd) }
        if let initialCellGrad { initialCellGrad.update(from: dz, count: bd) }

        let (gIn, gH, gZ) = (inputBias.grad, hiddenBias.grad, transformBias.grad)
        for i in 0..<d {
            gIn[i] += sums[i]; gH[i] += sums[i]                                   // ȳ-gate
            gIn[d + i] += sums[d + i]; gH[d + i] += sums[d + i]                   // z-gate
            gIn[3 * d + i] += sums[2 * d + i]; gH[2 * d + i] += sums[2 * d + i]   // z-candidate
            gIn[2 * d + i] += sums[3 * d + i]; gZ[i] += sums[3 * d + i]           // y-candidate
        }
        // ∂U = ∂X · W_in (in the gate order)
        if let inputGrad { inputProjection.inputGradient(x, rows: T * B, into: inputGrad) }
        saved.valid = false
    }
}

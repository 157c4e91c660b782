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

    /// Writes inp2hid.weight `[4d, m]` with its rows in X's gate order into `w`.
    private func copyInputWeightInGateOrder(into w: UnsafeMutablePointer<Float>) {
        let m = config.inputSize
        for block in inputBlocks {
            (w + block.column * m).update(from: inputWeight.value + block.weightRow * m, count: block.width * m)
        }
    }

    /// inp2hid's rows in blocks that map to X's columns: ȳ- and z-gates stay in place, the
    /// y- and z-candidates swap (X's gate order, see `gates`).
    private var inputBlocks: [(column: Int, weightRow: Int, width: Int)] {
        let d = config.hiddenSize
        return [(column: 0, weightRow: 0, width: 2 * d), (column: 2 * d, weightRow: 3 * d, width: d), (column: 3 * d, weightRow: 2 * d, width: d)]
    }

    // MARK: - Cached state of the last forward pass

    public private(set) var steps = 0
    public private(set) var batch = 0
    private var hasStateMask = false
    private var activationsValid = false  // backward overwrites the gate activations with gradients
    /// [T, B, 4d]: pre-activations, then activations after forward, then ∂L/∂pre-activations after
    /// backward. Columns in the gate order [ ȳ-gate | z-gate | z-candidate | y-candidate ]: the
    /// first 3d columns line up with hid2hid's rows and the last d with transform_z's, so the
    /// per-step products add into X in place and ∂X serves as ∂hid2hid and ∂transform_z as is.
    private var gates: FloatBuffer?
    private var ys: FloatBuffer?         // [T+1, B, d]: y₀ … y_T
    private var zs: FloatBuffer?         // [T+1, B, d]: z₀ … z_T
    /// hid2hid's W_h [3d, d] and transform_z's W_z [d, d] as the per-step products use them
    /// (their route — packed, copied, in place, int8 — is `StepWeights`' choice).
    private let hidden: StepWeights, transform: StepWeights
    private var inputCopy: FloatBuffer?  // [T, B, m]: copy of the input (for ∂L/∂inp2hid.weight)
    private var input: UnsafePointer<Float>? // the input of the last forward pass (or its copy)
    private var maskedYs: FloatBuffer?   // [T, B, d]: y₀ … y_{T−1} ⊙ state mask (only with state dropout)
    private var stateMask: FloatBuffer?  // [B, d]
    private var combinedBias: FloatBuffer?     // [4d]: inp2hid.bias + hid2hid/transform_z biases, gate order
    private var inputWeightInGateOrder: FloatBuffer? // [4d, m]: inp2hid.weight's rows in the gate order (T > 1)
    private var usesWeightCopies = false   // the last forward made the copies below (several steps)
    private var inputWeightT: FloatBuffer?     // [m, 4d]: that copy transposed (step-by-step input products)
    private var columnSums: FloatBuffer?       // [4d]: Σ over rows of ∂X (bias gradients)
    private var carryY: FloatBuffer?, carryZ: FloatBuffer?, scratch: FloatBuffer?  // [B, d]
    /// inp2hid's int8 copy (gate order) once `quantizeForInference` has run (inference only).
    private var int8Input: Int8Matrix?

    /// y₁ … y_T of the last forward pass, `[T, B, d]` (h₁ … h_T of `RecurrentLayer`).
    public var outputs: UnsafeMutablePointer<Float> { ys!.pointer + batch * config.hiddenSize }
    /// y_T and z_T of the last forward pass, `[B, d]` each (the state to carry to the next window).
    public var finalHidden: UnsafeMutablePointer<Float> { ys!.pointer + steps * batch * config.hiddenSize }
    public var finalCell: UnsafeMutablePointer<Float>? { zs!.pointer + steps * batch * config.hiddenSize }

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
        steps = T; batch = B; hasStateMask = mask != nil; activationsValid = !isQuantized
        let x = ensure(&gates, T * B * 4 * d)
        let y = ensure(&ys, (T + 1) * bd)
        let z = ensure(&zs, (T + 1) * bd)
        let u: UnsafePointer<Float>
        if inputStaysValid {
            u = input
        } else {
            let copy = ensure(&inputCopy, T * B * m)
            copy.update(from: input, count: T * B * m)
            u = UnsafePointer(copy)
        }
        self.input = u
        let bias = ensure(&combinedBias, 4 * d)
        let ym = mask != nil ? ensure(&maskedYs, T * bd) : y
        let storedMask = mask != nil ? ensure(&stateMask, bd) : y
        if let mask { storedMask.update(from: mask, count: bd) }

        if let initialHidden { y.update(from: initialHidden, count: bd) } else { y.update(repeating: 0, count: bd) }
        if let initialCell { z.update(from: initialCell, count: bd) } else { z.update(repeating: 0, count: bd) }

        // The three biases summed in the gate order of X (see `gates`).
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
        usesWeightCopies = !isQuantized && T > 1
            && (weightCopiesOverride ?? ((B > 1 || 4 * d * d <= 1 << 20) && !policy.packsWeights(hidden: d, batch: B)))
        hidden.beginForward(batch: B, hidden: d, copies: usesWeightCopies, ldc: 4 * d, accumulate: true, policy: policy)
        transform.beginForward(batch: B, hidden: d, copies: usesWeightCopies, ldc: 4 * d, accumulate: true, policy: policy)
        let hiddenBlocks = perGateProducts ? 3 : 1

        // inp2hid: X[T·B, 4d] = U[T·B, m] · Wᵢₙᵀ (the gate math adds the biases). With the copies
        // above, a copy of W_in in the gate order too: one product for the whole sequence, or,
        // when each gate's product of a step is small (and there are at least 16 sequences:
        // below, the per-step calls cost more than they save), step by step from its transpose
        // (the small-matrix kernels write X directly, without the zeroing pass a large product
        // with β = 0 makes over all of X). A single step or a single sequence through a large
        // layer reads W_in's blocks in place.
        let stepwiseInput = usesWeightCopies && perGateProducts && B >= 16 && B * m * d <= 1_000_000
        let inputT = stepwiseInput ? ensure(&inputWeightT, m * 4 * d) : nil
        if let int8Input {
            int8Input.multiply(u, rows: T * B, into: x, accumulate: false)
        } else if usesWeightCopies {
            let w = ensure(&inputWeightInGateOrder, 4 * d * m)
            copyInputWeightInGateOrder(into: w)
            if let inputT {
                transpose(w, rows: 4 * d, columns: m, into: inputT)
            } else {
                gemm(transposeB: true, m: T * B, n: 4 * d, k: m, u, lda: m, w, ldb: m, beta: 0, x, ldc: 4 * d)
            }
        } else {
            for block in inputBlocks {
                gemm(transposeB: true, m: T * B, n: block.width, k: m, u, lda: m, inputWeight.value + block.weightRow * m, ldb: m,
                     beta: 0, x + block.column, ldc: 4 * d)
            }
        }

        let dt = config.dt
        for t in 0..<T {
            let yPrev = y + t * bd, zPrev = z + t * bd
            let yNext = yPrev + bd, zNext = zPrev + bd
            let xt = x + t * B * 4 * d
            if let inputT {
                for g in 0..<4 {
                    gemm(m: B, n: d, k: m, u + t * B * m, lda: m, inputT + g * d, ldb: 4 * d, beta: 0, xt + g * d, ldc: 4 * d)
                }
            }
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
        let (m, d) = (config.inputSize, config.hiddenSize)
        let inputInGateOrder = FloatBuffer(count: 4 * d * m)
        copyInputWeightInGateOrder(into: inputInGateOrder.pointer)
        int8Input = Int8Matrix(inputInGateOrder.pointer, rows: 4 * d, columns: m)
        hidden.quantize()
        transform.quantize()
    }

    public var isQuantized: Bool { int8Input != nil }

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
        let x = gates!.pointer + rows.lowerBound * 4 * d, z = zs!.pointer + (batch + rows.lowerBound) * d
        let u = input! + rows.lowerBound * m, yPrev = recurrentInputs + rows.lowerBound * d
        let k = rows.count
        // ∂W_h[3d, d] += ∂X[:, 0..<3d]ᵀ · Y_prev
        gemm(transposeA: true, m: 3 * d, n: d, k: k, x, lda: 4 * d, yPrev, ldb: d, beta: 1, hiddenWeight.grad, ldc: d)
        // ∂W_z[d, d] += ∂X[:, 3d..<4d]ᵀ · Z (z₁ … z_T)
        gemm(transposeA: true, m: d, n: d, k: k, x + 3 * d, lda: 4 * d, z, ldb: d, beta: 1, transformWeight.grad, ldc: d)
        // ∂W_in[4d, m] += ∂Xᵀ · U, block by block back into inp2hid's row order
        for block in inputBlocks {
            gemm(transposeA: true, m: block.width, n: m, k: k, x + block.column, lda: 4 * d, u, ldb: m,
                 beta: 1, inputWeight.grad + block.weightRow * m, ldc: m)
        }
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
        precondition(activationsValid, "LEM backward needs a forward pass first (once per forward)")
        let (m, d) = (config.inputSize, config.hiddenSize)
        let bd = B * d
        let x = gates!.pointer, y = ys!.pointer, z = zs!.pointer
        let dy = ensure(&carryY, bd), dz = ensure(&carryZ, bd)
        let tmp = ensure(&scratch, bd)
        let mask: UnsafeMutablePointer<Float>? = hasStateMask ? stateMask!.pointer : nil
        if let finalHiddenGrad { dy.update(from: finalHiddenGrad, count: bd) } else { dy.update(repeating: 0, count: bd) }
        if let finalCellGrad { dz.update(from: finalCellGrad, count: bd) } else { dz.update(repeating: 0, count: bd) }

        let dt = config.dt
        let recurrentInputs = hasStateMask ? maskedYs!.pointer : y   // y₀ … y_{T−1} (masked)
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
        let rows = T * B
        if let inputGrad, usesWeightCopies {
            gemm(m: rows, n: m, k: 4 * d, x, lda: 4 * d, inputWeightInGateOrder!.pointer, ldb: m, beta: 0, inputGrad, ldc: m)
        } else if let inputGrad {
            for (i, block) in inputBlocks.enumerated() {
                gemm(m: rows, n: m, k: block.width, x + block.column, lda: 4 * d, inputWeight.value + block.weightRow * m, ldb: m,
                     beta: i == 0 ? 0 : 1, inputGrad, ldc: m)
            }
        }
        activationsValid = false
    }
}

/// `into[j] += Σ_r matrix[r·stride + j]` for j < columns (a bias gradient).
@inline(always)
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = matrix + r * stride
        for j in 0..<columns { out[j] += row[j] }
    }
}

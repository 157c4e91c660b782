import Foundation
import Runtime

/// One residual block of the LRU model (Orvieto et al. 2023, App. D.1, Fig. 1 "Norm – Recurrence –
/// GLU – Skip"), as a `RecurrentLayer` so every tool stacks it with `--cell lru`:
///
///     x   = u                      (or the encoder W_e u + b_e when the input width m ≠ H: layer 0)
///     z   = LayerNorm(x)           (pre-norm; weight, bias; ε = 1e-5 as torch.nn.LayerNorm)
///     v   = LRU(z)                 (`LRULayer`, N = H/2 complex states)
///     a   = GELU(v) ⊙ mask         (tanh form, as the paper's JAX `nn.gelu`; the mask: the tools'
///                                   state dropout, one per sequence and feature for all steps,
///                                   as the reference's `Dropout(broadcast_dims=[0])`)
///     out = x + (W₁ a + b₁) ⊙ σ(W₂ a + b₂)          (GLU)
///
/// Differences from the paper's runs, on purpose: LayerNorm instead of BatchNorm (the paper's
/// code offers both; batch statistics do not suit streaming and batch-1 inference), one dropout
/// (after GELU) instead of two.
///
/// Names (a PyTorch module with attributes `encoder` and `layers`, a ModuleList of blocks with
/// `norm`, `lru`, `out1`, `out2`): `encoder.weight [H, m]`, `encoder.bias [H]` (layer 0 when
/// m ≠ H), `layers.<k>.norm.weight|bias [H]`, `layers.<k>.lru.*` (`LRULayer`),
/// `layers.<k>.out1.weight [H, H]`, `.out1.bias`, `.out2.weight`, `.out2.bias`.
///
/// State: the layer's outputs are `out` (`outputs`, `finalHidden` = out_T); the state carried from
/// window to window is the LRU's complex h_T in the models' `[B, H]` cell-state slot (`finalCell`:
/// per sequence the N = ⌊H/2⌋ real parts, then the N imaginary parts, then a 0 when H is odd).
/// `initialHidden` is not used (out is not fed back).
public final class LRUBlockLayer: RecurrentLayer, @unchecked Sendable {
    public let inputSize: Int, hiddenSize: Int
    public var hasCellState: Bool { true }
    public var stateSize: Int { hiddenSize / 2 }
    let encoder: Linear?
    let normWeight: Parameter, normBias: Parameter
    let lru: LRULayer
    let out1: Linear, out2: Linear

    /// The names' prefix of block `layer` ("layers.<k>.").
    public static func prefix(layer: Int) -> String { "layers.\(layer)." }

    public static func declare(_ layout: inout LayoutBuilder, layer: Int, inputSize m: Int, hiddenSize h: Int) {
        let p = prefix(layer: layer)
        if m != h { Linear.declare(&layout, prefix: "encoder.", inputSize: m, outputSize: h) }
        layout.add(p + "norm.weight", [h]); layout.add(p + "norm.bias", [h])
        LRULayer.declare(&layout, prefix: p + "lru.", width: h, stateSize: h / 2)
        Linear.declare(&layout, prefix: p + "out1.", inputSize: h, outputSize: h)
        Linear.declare(&layout, prefix: p + "out2.", inputSize: h, outputSize: h)
    }

    public init(parameters: ParameterBlock, layer: Int, inputSize m: Int, hiddenSize h: Int) {
        (inputSize, hiddenSize) = (m, h)
        let p = Self.prefix(layer: layer)
        encoder = m == h ? nil : Linear(weight: parameters.parameter("encoder.weight"), bias: parameters.parameter("encoder.bias"))
        normWeight = parameters.parameter(p + "norm.weight"); normBias = parameters.parameter(p + "norm.bias")
        lru = LRULayer(parameters: parameters, prefix: p + "lru.", width: h, stateSize: h / 2)
        out1 = Linear(weight: parameters.parameter(p + "out1.weight"), bias: parameters.parameter(p + "out1.bias"))
        out2 = Linear(weight: parameters.parameter(p + "out2.weight"), bias: parameters.parameter(p + "out2.bias"))
    }

    /// The paper's LRU initialisation (whole unit disc), LayerNorm's (weight 1, bias 0), and
    /// PyTorch's `nn.Linear` default for the encoder and the GLU.
    public func initialize(_ rng: inout RandomGenerator) {
        encoder?.initialize(&rng)
        for i in 0..<hiddenSize { normWeight.value[i] = 1; normBias.value[i] = 0 }
        lru.initialize(&rng)
        out1.initialize(&rng)
        out2.initialize(&rng)
    }

    // MARK: - Cached state of the last forward pass

    public private(set) var steps = 0, batch = 0
    private var encoded: FloatBuffer?      // [T, B, H]: x (encoder output, layer 0 with m ≠ H)
    private var x: UnsafePointer<Float>?   // x: `encoded` or the caller's input
    private var inputCopy: FloatBuffer?
    private var normed: FloatBuffer?       // [T, B, H]: x̂ = (x − μ)·rstd, before weight and bias
    private var normOut: FloatBuffer?      // [T, B, H]: z
    private var rstd: FloatBuffer?         // [T·B]
    private var activated: FloatBuffer?    // [T, B, H]: a = GELU(v) ⊙ mask
    private var glu: FloatBuffer?          // [T, B, 2H]: W₁a + b₁, then σ(W₂a + b₂), per row (one GEMM)
    private var packedGLU: FloatBuffer?    // [2H, H]: W₁ then W₂; [2H]: b₁ then b₂ after it
    private var gluGrad: FloatBuffer?      // [T, B, 2H]: backward's ∂(W₁a + b₁), ∂(W₂a + b₂) per row
    private var out: FloatBuffer?          // [T, B, H]
    private var mask: FloatBuffer?         // [B, H]
    private var hasMask = false
    private var grad1: FloatBuffer?, grad2: FloatBuffer?, grad3: FloatBuffer?   // [T, B, H] scratch of backward
    private var zeroState: FloatBuffer?

    public var outputs: UnsafeMutablePointer<Float> { out!.pointer }
    public var finalHidden: UnsafeMutablePointer<Float> { out!.pointer + (steps - 1) * batch * hiddenSize }
    public var finalCell: UnsafeMutablePointer<Float>? { packedState!.pointer }
    private var packedState: FloatBuffer?   // [B, H]: h_T in the cell-state slot
    private var unpacked: FloatBuffer?      // [B, 2N]: a cell-state slot's h₀, or ∂L/∂h_T

    /// Copies `B` rows of `from` columns into rows of `to` columns (the rest of each row 0).
    private static func repack(_ source: UnsafePointer<Float>, from: Int, into target: UnsafeMutablePointer<Float>, to: Int, rows: Int) {
        for b in 0..<rows {
            for k in 0..<to { target[b * to + k] = k < from ? source[b * from + k] : 0 }
        }
    }

    public func quantizeForInference() {
        encoder?.quantizeForInference()
        out1.quantizeForInference()
        out2.quantizeForInference()
    }
    public var isQuantized: Bool { out1.isQuantized }

    // GELU, tanh form: 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))), and its derivative (tanh
    // by `tanhFast`, |error| ≤ 1e-6, which vectorises where Glibc's tanhf costs ~11 ns).
    @inline(__always) static func gelu(_ v: Float) -> Float {
        0.5 * v * (1 + tanhFast(0.7978845608 * (v + 0.044715 * v * v * v)))
    }
    @inline(__always) static func geluDerivative(_ v: Float) -> Float {
        let t = tanhFast(0.7978845608 * (v + 0.044715 * v * v * v))
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * 0.7978845608 * (1 + 3 * 0.044715 * v * v)
    }
    @inline(__always) static func gelu(_ v: SIMD16<Float>) -> SIMD16<Float> {
        0.5 * v * (1 + tanhFast(0.7978845608 * (v + 0.044715 * v * v * v)))
    }
    @inline(__always) static func geluDerivative(_ v: SIMD16<Float>) -> SIMD16<Float> {
        let v2: SIMD16<Float> = v * v
        let inner: SIMD16<Float> = 0.7978845608 * (v + 0.044715 * v2 * v)
        let t: SIMD16<Float> = tanhFast(inner)
        let slope: SIMD16<Float> = 0.7978845608 * (1 + 0.134145 * v2)
        let half: SIMD16<Float> = 0.5 * (1 + t)
        return half + 0.5 * v * (1 - t * t) * slope
    }

    // MARK: - Forward

    public func forward(input: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        initialHidden: UnsafePointer<Float>?, initialCell: UnsafePointer<Float>?,
                        stateMask: UnsafePointer<Float>?, inputStaysValid: Bool) {
        precondition(T > 0 && B > 0, "LRU forward needs at least one step and one sequence")
        let (m, h) = (inputSize, hiddenSize)
        let rows = T * B
        (steps, batch, hasMask) = (T, B, stateMask != nil)
        if let encoder {
            let source: UnsafePointer<Float>
            if inputStaysValid { source = input } else {
                let copy = ensure(&inputCopy, rows * m)
                copy.update(from: input, count: rows * m)
                source = UnsafePointer(copy)
            }
            sourceInput = source
            let e = ensure(&encoded, rows * h)
            encoder.forward(input: source, rows: rows, output: e)
            x = UnsafePointer(e)
        } else if inputStaysValid {
            x = input
        } else {
            let copy = ensure(&inputCopy, rows * h)
            copy.update(from: input, count: rows * h)
            x = UnsafePointer(copy)
        }
        let x = self.x!
        // LayerNorm over the H features of each row.
        let xhat = ensure(&normed, rows * h), z = ensure(&normOut, rows * h), r = ensure(&rstd, rows)
        let (nw, nb) = (normWeight.value, normBias.value)
        for row in 0..<rows {
            let v = x + row * h
            var sum = SIMD16<Float>(repeating: 0)
            forEachChunk(h) { k, lanes in sum += loadLanes(v + k, lanes) }
            let mean = sum.sum() / Float(h)
            var squares = SIMD16<Float>(repeating: 0)
            forEachChunk(h) { k, lanes in let c = zeroingTail(loadLanes(v + k, lanes) - mean, lanes); squares += c * c }
            let s = 1 / (squares.sum() / Float(h) + 1e-5).squareRoot()
            r[row] = s
            forEachChunk(h) { k, lanes in
                let n = (loadLanes(v + k, lanes) - mean) * s
                storeLanes(n, xhat + row * h + k, lanes)
                storeLanes(n * loadLanes(nw + k, lanes) + loadLanes(nb + k, lanes), z + row * h + k, lanes)
            }
        }
        let n2 = 2 * stateSize
        let h0: UnsafePointer<Float>? = initialCell.map { c in
            let u = ensure(&unpacked, B * n2)
            Self.repack(c, from: h, into: u, to: n2, rows: B)
            return UnsafePointer(u)
        }
        lru.forward(input: z, steps: T, batch: B, initialState: h0, inputStaysValid: true)
        Self.repack(lru.finalStates, from: n2, into: ensure(&packedState, B * h), to: h, rows: B)
        let a = ensure(&activated, rows * h), v = lru.outputs
        if let stateMask { ensure(&mask, B * h).update(from: stateMask, count: B * h) }
        forEachChunk(rows * h) { i, lanes in storeLanes(Self.gelu(loadLanes(v + i, lanes)), a + i, lanes) }
        if stateMask != nil {
            for row in 0..<rows { let m = UnsafePointer(mask!.pointer) + (row % B) * h; multiplyLanes(a + row * h, by: m, count: h) }
        }
        // GLU: out = x + (W₁a + b₁) ⊙ σ(W₂a + b₂), both products as one [T·B, H]·[H, 2H] GEMM.
        let o = ensure(&out, rows * h), p = ensure(&glu, rows * 2 * h)
        if out1.isQuantized {   // int8 inference: each Linear on its int8 matrix
            let lin = ensure(&grad1, rows * h), gate = ensure(&grad2, rows * h)
            out1.forward(input: a, rows: rows, output: lin)
            out2.forward(input: a, rows: rows, output: gate)
            for i in 0..<(rows * h) { o[i] = x[i] + lin[i] * sigmoidFast(gate[i]) }
            return
        }
        let w = ensure(&packedGLU, 2 * h * h + 2 * h), bias = w + 2 * h * h
        w.update(from: out1.weight.value, count: h * h)
        (w + h * h).update(from: out2.weight.value, count: h * h)
        bias.update(from: out1.bias!.value, count: h)
        (bias + h).update(from: out2.bias!.value, count: h)
        gemm(transposeB: true, m: rows, n: 2 * h, k: h, a, lda: h, w, ldb: h, beta: 0, p, ldc: 2 * h)
        // The biases join here (not as a GEMM's initial C: that is a copy per row).
        for row in 0..<rows {
            let (lin, gate, x, o) = (p + row * 2 * h, p + row * 2 * h + h, x + row * h, o + row * h)
            forEachChunk(h) { k, lanes in
                let l = loadLanes(lin + k, lanes) + loadLanes(bias + k, lanes)
                let s = sigmoidFast(loadLanes(gate + k, lanes) + loadLanes(bias + h + k, lanes))
                storeLanes(l, lin + k, lanes)
                storeLanes(s, gate + k, lanes)
                storeLanes(loadLanes(x + k, lanes) + l * s, o + k, lanes)
            }
        }
    }
    private var sourceInput: UnsafePointer<Float>?

    // MARK: - Backward

    public func backward(outputGrad: UnsafePointer<Float>?, finalHiddenGrad: UnsafePointer<Float>?, finalCellGrad: UnsafePointer<Float>?,
                         inputGrad: UnsafeMutablePointer<Float>?, initialHiddenGrad: UnsafeMutablePointer<Float>?,
                         initialCellGrad: UnsafeMutablePointer<Float>?) {
        precondition(!isQuantized, "an int8 layer runs inference only (no backward)")
        let (T, B, h) = (steps, batch, hiddenSize)
        let rows = T * B, count = rows * h
        let a = activated!.pointer, p = glu!.pointer
        // dOut, with the last step's extra gradient.
        let dOut = ensure(&grad1, count)
        if let outputGrad { dOut.update(from: outputGrad, count: count) } else { dOut.update(repeating: 0, count: count) }
        if let finalHiddenGrad { for j in 0..<(B * h) { dOut[(T - 1) * B * h + j] += finalHiddenGrad[j] } }
        // GLU: ∂(W₁a+b₁) = dOut ⊙ σ, ∂(W₂a+b₂) = dOut ⊙ (W₁a+b₁) ⊙ σ(1 − σ), side by side in one row.
        let dp = ensure(&gluGrad, max(rows * 2 * h, 2 * h * h))
        for row in 0..<rows {
            let (lin, sig, d, dpr) = (p + row * 2 * h, p + row * 2 * h + h, dOut + row * h, dp + row * 2 * h)
            forEachChunk(h) { k, lanes in
                let (dk, sk) = (loadLanes(d + k, lanes), loadLanes(sig + k, lanes))
                storeLanes(dk * sk, dpr + k, lanes)
                storeLanes(dk * loadLanes(lin + k, lanes) * sk * (1 - sk), dpr + h + k, lanes)
            }
        }
        // ∂a = ∂p · [W₁; W₂]; the biases' gradients are ∂p's column sums; ∂[W₁; W₂] = ∂pᵀ a.
        let da = ensure(&daBuffer, count), w = packedGLU!.pointer
        gemm(m: rows, n: h, k: 2 * h, dp, lda: 2 * h, w, ldb: h, beta: 0, da, ldc: h)
        addColumnSums(dp, rows: rows, columns: h, stride: 2 * h, into: out1.bias!.grad)
        addColumnSums(dp + h, rows: rows, columns: h, stride: 2 * h, into: out2.bias!.grad)
        let wg = ensure(&gluWeightGrad, 2 * h * h)
        gemm(transposeA: true, m: 2 * h, n: h, k: rows, dp, lda: 2 * h, a, ldb: h, beta: 0, wg, ldc: h)
        for j in 0..<(h * h) { out1.weight.grad[j] += wg[j]; out2.weight.grad[j] += wg[h * h + j] }
        // GELU and the mask: ∂v = (∂a₁ + ∂a₂) ⊙ mask ⊙ GELU'(v).
        let v = lru.outputs, dv = ensure(&grad2, count)
        forEachChunk(rows * h) { i, lanes in storeLanes(loadLanes(da + i, lanes) * Self.geluDerivative(loadLanes(v + i, lanes)), dv + i, lanes) }
        if hasMask {
            for row in 0..<rows { let m = UnsafePointer(mask!.pointer) + (row % B) * h; multiplyLanes(dv + row * h, by: m, count: h) }
        }
        let dz = ensure(&grad3, count)
        let n2 = 2 * stateSize
        let dhT: UnsafePointer<Float>? = finalCellGrad.map { g in
            let u = ensure(&unpacked, B * n2)
            Self.repack(g, from: h, into: u, to: n2, rows: B)
            return UnsafePointer(u)
        }
        let dh0 = initialCellGrad == nil ? nil : ensure(&initialGradBuffer, B * n2)
        lru.backward(outputGrad: dv, finalStateGrad: dhT, inputGrad: dz, initialStateGrad: dh0)
        if let initialCellGrad, let dh0 { Self.repack(dh0, from: n2, into: initialCellGrad, to: h, rows: B) }
        // LayerNorm: ∂w += Σ dz ⊙ x̂, ∂b += Σ dz; ∂x = rstd·(g − mean(g) − x̂·mean(g ⊙ x̂)) with g = dz ⊙ w; plus the skip's dOut.
        let xhat = normed!.pointer, r = rstd!.pointer
        let dx = encoder == nil ? (inputGrad ?? da) : da   // da is free now
        addColumnSumsOfProducts(dz, xhat, rows: rows, width: h, into: normWeight.grad)
        addColumnSums(dz, rows: rows, columns: h, stride: h, into: normBias.grad)
        let nw = normWeight.value
        for row in 0..<rows {
            var sumG = SIMD16<Float>(repeating: 0), sumGX = SIMD16<Float>(repeating: 0)
            forEachChunk(h) { k, lanes in   // a tail's unused lanes load as 0, so add 0
                let i = row * h + k
                let gk = loadLanes(dz + i, lanes) * loadLanes(nw + k, lanes)
                sumG += gk
                sumGX += gk * loadLanes(xhat + i, lanes)
            }
            let (meanG, meanGX, rs) = (sumG.sum() / Float(h), sumGX.sum() / Float(h), r[row])
            forEachChunk(h) { k, lanes in
                let i = row * h + k
                let gk = loadLanes(dz + i, lanes) * loadLanes(nw + k, lanes)
                storeLanes(loadLanes(dOut + i, lanes) + rs * (gk - meanG - loadLanes(xhat + i, lanes) * meanGX), dx + i, lanes)
            }
        }
        if let encoder {
            encoder.backward(input: sourceInput!, outputGrad: dx, rows: rows, inputGrad: inputGrad)
        }
        if let initialHiddenGrad { initialHiddenGrad.update(repeating: 0, count: B * h) }   // out is not fed back
    }
    private var daBuffer: FloatBuffer?, gluWeightGrad: FloatBuffer?, initialGradBuffer: FloatBuffer?
}

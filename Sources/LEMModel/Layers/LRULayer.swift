import Foundation
import Runtime

/// The Linear Recurrent Unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for
/// Long Sequences", §3 and App. A): a complex diagonal linear recurrence with an exponential
/// parametrisation of its eigenvalues and a normalised input, read out by its real part.
///
/// Parameters (names as the paper's code, under the layer's prefix, e.g. "layers.0.lru."):
///
///     nu_log, theta_log, gamma_log [N]   B_re, B_im [N, H]   C_re, C_im [H, N]   D [H]
///
/// With λ = exp(−exp(ν) + i·exp(θ)) (so |λ| = exp(−exp(ν)) < 1 for any ν), γ = exp(gamma_log),
/// h₀ = 0 (or the carried state) and ⊙ elementwise, for each step t and input x_t ∈ ℝᴴ:
///
///     h_t = λ ⊙ h_{t−1} + γ ⊙ (B x_t)          (complex, N values)
///     y_t = Re(C h_t) + D ⊙ x_t = C_re Re h_t − C_im Im h_t + D ⊙ x_t
///
/// Where the time goes: B x for all T steps is two GEMMs `[T·B, H]·[H, N]`, the readout two GEMMs
/// `[T·B, N]·[N, H]`; per step only the diagonal recurrence (6 flops per state value). Backward
/// is the same shape: the reverse scan G_t = C^H dy_t + conj(λ) ⊙ G_{t+1} per step, every
/// weight gradient a whole-sequence GEMM afterwards.
///
/// The state carried between windows is h_T, complex: `[B, 2N]` as the N real parts then the N
/// imaginary parts of each sequence.
public final class LRULayer: @unchecked Sendable {
    /// H: input and output features; N: complex state size.
    public let width: Int, stateSize: Int
    let nuLog: Parameter, thetaLog: Parameter, gammaLog: Parameter
    let bRe: Parameter, bIm: Parameter, cRe: Parameter, cIm: Parameter, d: Parameter

    /// The eigenvalues' ring and phase at initialisation (the paper's defaults: the whole unit disc).
    public struct Ring: Sendable, Equatable {
        public var rMin: Float = 0, rMax: Float = 1, maxPhase: Float = 6.28
        public init(rMin: Float = 0, rMax: Float = 1, maxPhase: Float = 6.28) { (self.rMin, self.rMax, self.maxPhase) = (rMin, rMax, maxPhase) }
    }

    public static func declare(_ layout: inout LayoutBuilder, prefix: String, width h: Int, stateSize n: Int) {
        for name in ["nu_log", "theta_log", "gamma_log"] { layout.add(prefix + name, [n]) }
        layout.add(prefix + "B_re", [n, h]); layout.add(prefix + "B_im", [n, h])
        layout.add(prefix + "C_re", [h, n]); layout.add(prefix + "C_im", [h, n])
        layout.add(prefix + "D", [h])
    }

    public init(parameters: ParameterBlock, prefix: String, width h: Int, stateSize n: Int) {
        (width, stateSize) = (h, n)
        nuLog = parameters.parameter(prefix + "nu_log"); thetaLog = parameters.parameter(prefix + "theta_log")
        gammaLog = parameters.parameter(prefix + "gamma_log")
        bRe = parameters.parameter(prefix + "B_re"); bIm = parameters.parameter(prefix + "B_im")
        cRe = parameters.parameter(prefix + "C_re"); cIm = parameters.parameter(prefix + "C_im")
        d = parameters.parameter(prefix + "D")
    }

    /// The paper's initialisation (App. A): λ uniform on the ring r_min ≤ |λ| ≤ r_max with phase in
    /// [0, max_phase] (ν = log(−½·log(u₁(r_max² − r_min²) + r_min²)), θ = log(max_phase·u₂)),
    /// γ = √(1 − |λ|²), B ~ N(0, 1/(2H)), C ~ N(0, 1/N), D ~ N(0, 1). u₁, u₂ are drawn inside (0, 1):
    /// an endpoint would give ±∞ parameters.
    public func initialize(_ rng: inout RandomGenerator, ring: Ring = Ring()) {
        let (h, n) = (width, stateSize)
        func open() -> Double { Double(max(rng.uniformFloat(), 0x1p-24)) }
        for i in 0..<n {
            let u1 = min(open(), 1 - 0x1p-24), u2 = open()
            let r2 = u1 * Double(ring.rMax * ring.rMax - ring.rMin * ring.rMin) + Double(ring.rMin * ring.rMin)
            let nu = log(-0.5 * log(r2))
            nuLog.value[i] = Float(nu)
            thetaLog.value[i] = Float(log(Double(ring.maxPhase) * u2))
            let modulus = exp(-exp(Double(Float(nu))))
            gammaLog.value[i] = Float(log(sqrt(max(1 - modulus * modulus, 1e-12))))
        }
        for i in 0..<(n * h) { bRe.value[i] = rng.normal() / Float(2 * h).squareRoot(); bIm.value[i] = rng.normal() / Float(2 * h).squareRoot() }
        for i in 0..<(h * n) { cRe.value[i] = rng.normal() / Float(n).squareRoot(); cIm.value[i] = rng.normal() / Float(n).squareRoot() }
        for i in 0..<h { d.value[i] = rng.normal() }
    }

    // MARK: - Cached state of the last forward pass
    //
    // Every complex [.., N] quantity is stored as rows of 2N floats, the N real parts then the N
    // imaginary parts, so that each pair of real products (B_re and B_im, C_re and C_im) is one
    // GEMM over [B_re; B_im] [2N, H] or [C_re | −C_im] [H, 2N] (packed at each forward).

    public private(set) var steps = 0, batch = 0
    private var lambda: FloatBuffer?            // [2N]: Re λ, Im λ
    private var gamma: FloatBuffer?             // [N]
    private var packedB: FloatBuffer?           // [2N, H]: B_re, then B_im
    private var packedC: FloatBuffer?           // [H, 2N]: each row C_re[k, :], −C_im[k, :]
    private var projected: FloatBuffer?         // [T, B, 2N]: B x_t (unscaled)
    private var states: FloatBuffer?            // [T+1, B, 2N]: h₀ … h_T
    private var output: FloatBuffer?            // [T, B, H]
    private var input: UnsafePointer<Float>?
    private var inputCopy: FloatBuffer?
    private var cotangents: FloatBuffer?        // [T, B, 2N]: backward's G, then γ ⊙ G
    private var outputGradCopy: FloatBuffer?    // [T, B, H]: dy with the final step's extra gradient
    private var weightGrad: FloatBuffer?        // [2N·H]: a packed weight's gradient before it is added to B's or C's
    private var gammaTwice: FloatBuffer?        // [2N]: γ, γ (scales a [Re | Im] row)

    /// y₁ … y_T of the last forward pass, `[T, B, H]`.
    public var outputs: UnsafeMutablePointer<Float> { output!.pointer }
    /// h_T of the last forward pass, `[B, 2N]` (real parts, then imaginary parts, per sequence).
    public var finalStates: UnsafeMutablePointer<Float> { states!.pointer + steps * batch * 2 * stateSize }

    // MARK: - Forward

    /// Runs `T` steps of `B` sequences: `input` `[T, B, H]`, `initialState` `[B, 2N]` or nil (zeros).
    /// With `inputStaysValid` the caller keeps `input` unchanged until `backward` has returned.
    public func forward(input x: UnsafePointer<Float>, steps T: Int, batch B: Int, initialState: UnsafePointer<Float>? = nil,
                        inputStaysValid: Bool = false) {
        precondition(T > 0 && B > 0, "LRU forward needs at least one step and one sequence")
        let (h, n) = (width, stateSize)
        let n2 = 2 * n
        (steps, batch) = (T, B)
        if inputStaysValid { input = x } else {
            let copy = ensure(&inputCopy, T * B * h)
            copy.update(from: x, count: T * B * h)
            input = UnsafePointer(copy)
        }
        let lam = ensure(&lambda, n2), g = ensure(&gamma, n)
        for i in 0..<n {
            let modulus = exp(-exp(Double(nuLog.value[i]))), phase = exp(Double(thetaLog.value[i]))
            lam[i] = Float(modulus * cos(phase)); lam[n + i] = Float(modulus * sin(phase))
            g[i] = Float(exp(Double(gammaLog.value[i])))
        }
        let pb = ensure(&packedB, n2 * h), pc = ensure(&packedC, h * n2)
        pb.update(from: bRe.value, count: n * h)
        (pb + n * h).update(from: bIm.value, count: n * h)
        for k in 0..<h {
            for i in 0..<n { pc[k * n2 + i] = cRe.value[k * n + i]; pc[k * n2 + n + i] = -cIm.value[k * n + i] }
        }
        let rows = T * B
        // B x for every step: [T·B, H]·[H, 2N].
        let u = ensure(&projected, rows * n2)
        gemm(transposeB: true, m: rows, n: n2, k: h, input!, lda: h, pb, ldb: h, beta: 0, u, ldc: n2)
        // The recurrence, the only per-step work: h_t = λ ⊙ h_{t−1} + γ ⊙ (B x_t).
        let s = ensure(&states, (T + 1) * B * n2)
        if let initialState { s.update(from: initialState, count: B * n2) } else { s.update(repeating: 0, count: B * n2) }
        // Chunks of 16 state values outermost within a step, so λ and γ stay in registers over the batch.
        for t in 0..<T {
            forEachChunk(n) { i, lanes in
                let (lr, li, gi) = (loadLanes(lam + i, lanes), loadLanes(lam + n + i, lanes), loadLanes(g + i, lanes))
                for b in 0..<B {
                    let prev = s + (t * B + b) * n2, next = prev + B * n2, ub = u + (t * B + b) * n2
                    let (hr, hi) = (loadLanes(prev + i, lanes), loadLanes(prev + n + i, lanes))
                    storeLanes(lr * hr - li * hi + gi * loadLanes(ub + i, lanes), next + i, lanes)
                    storeLanes(lr * hi + li * hr + gi * loadLanes(ub + n + i, lanes), next + n + i, lanes)
                }
            }
        }
        // y = Re h · C_reᵀ − Im h · C_imᵀ + D ⊙ x = h · [C_re | −C_im]ᵀ + D ⊙ x.
        let y = ensure(&output, rows * h)
        scaleColumns(input!, by: d.value, rows: rows, width: h, into: y)
        gemm(transposeB: true, m: rows, n: h, k: n2, s + B * n2, lda: n2, pc, ldb: n2, beta: 1, y, ldc: h)
    }

    // MARK: - Backward

    /// Backpropagation through time for the last forward pass: `outputGrad` ∂L/∂y `[T, B, H]`
    /// (nil: zeros), `finalOutputGrad` ∂L/∂y_T `[B, H]` added to its last step, `finalStateGrad`
    /// ∂L/∂h_T `[B, 2N]` from a later window. Accumulates the parameter gradients; writes ∂L/∂x
    /// `[T, B, H]` and ∂L/∂h₀ `[B, 2N]` where pointers are given.
    public func backward(outputGrad: UnsafePointer<Float>?, finalOutputGrad: UnsafePointer<Float>? = nil,
                         finalStateGrad: UnsafePointer<Float>? = nil,
                         inputGrad: UnsafeMutablePointer<Float>?, initialStateGrad: UnsafeMutablePointer<Float>? = nil) {
        let (T, B, h, n) = (steps, batch, width, stateSize)
        let n2 = 2 * n, rows = T * B
        let x = input!, lam = lambda!.pointer, g = gamma!.pointer, u = projected!.pointer, s = states!.pointer
        // dy, with the final step's extra gradient (a copy only when there is one).
        let dy: UnsafePointer<Float>
        if let finalOutputGrad {
            let all = ensure(&outputGradCopy, rows * h)
            if let outputGrad { all.update(from: outputGrad, count: rows * h) } else { all.update(repeating: 0, count: rows * h) }
            for j in 0..<(B * h) { all[(T - 1) * B * h + j] += finalOutputGrad[j] }
            dy = UnsafePointer(all)
        } else if let outputGrad {
            dy = outputGrad
        } else {
            let zeros = ensure(&outputGradCopy, rows * h)
            zeros.update(repeating: 0, count: rows * h)
            dy = UnsafePointer(zeros)
        }
        // C^H dy for every step: dy · [C_re | −C_im] = [Re, Im] ([T·B, H]·[H, 2N]).
        let G = ensure(&cotangents, rows * n2)
        gemm(m: rows, n: n2, k: h, dy, lda: h, packedC!.pointer, ldb: n2, beta: 0, G, ldc: n2)
        // The reverse scan G_t += conj(λ) ⊙ G_{t+1} (G_T also gets ∂L/∂h_T from a later window), with the
        // gradients of λ and γ summed on the way: g_λ += conj(h_{t−1}) ⊙ G_t, g_γ += Re(conj(Bx_t) ⊙ G_t).
        var gLamRe = [Double](repeating: 0, count: n), gLamIm = [Double](repeating: 0, count: n), gGamma = [Double](repeating: 0, count: n)
        if let finalStateGrad {   // ∂L/∂h_T itself joins G_T
            let last = G + (T - 1) * B * n2
            for j in 0..<(B * n2) { last[j] += finalStateGrad[j] }
        }
        for t in stride(from: T - 1, through: 0, by: -1) {
            forEachChunk(n) { i, lanes in
                let (lr, li) = (loadLanes(lam + i, lanes), loadLanes(lam + n + i, lanes))
                // This step's sums over the batch, in Float; Double across steps (below): long
                // sequences keep their precision.
                var sumRe = SIMD16<Float>(repeating: 0), sumIm = sumRe, sumGamma = sumRe
                for b in 0..<B {
                    let c = G + (t * B + b) * n2, prev = s + (t * B + b) * n2, ub = u + (t * B + b) * n2
                    var (cr, ci) = (loadLanes(c + i, lanes), loadLanes(c + n + i, lanes))
                    if t < T - 1 {
                        let next = c + B * n2
                        let (nr, ni) = (loadLanes(next + i, lanes), loadLanes(next + n + i, lanes))
                        cr += lr * nr + li * ni
                        ci += lr * ni - li * nr
                        storeLanes(cr, c + i, lanes); storeLanes(ci, c + n + i, lanes)
                    }
                    let (pr, pi) = (loadLanes(prev + i, lanes), loadLanes(prev + n + i, lanes))   // h_{t−1} (states are one step ahead)
                    sumRe += pr * cr + pi * ci
                    sumIm += pr * ci - pi * cr
                    sumGamma += loadLanes(ub + i, lanes) * cr + loadLanes(ub + n + i, lanes) * ci
                }
                for lane in 0..<lanes {
                    gLamRe[i + lane] += Double(sumRe[lane]); gLamIm[i + lane] += Double(sumIm[lane]); gGamma[i + lane] += Double(sumGamma[lane])
                }
            }
        }
        if let initialStateGrad {
            for b in 0..<B {
                let c = G + b * n2
                for i in 0..<n {
                    initialStateGrad[b * n2 + i] = lam[i] * c[i] + lam[n + i] * c[n + i]
                    initialStateGrad[b * n2 + n + i] = lam[i] * c[n + i] - lam[n + i] * c[i]
                }
            }
        }
        // Through the exponential parametrisation: ∂λ/∂ν = −exp(ν)·λ, ∂λ/∂θ = i·exp(θ)·λ, ∂γ/∂gamma_log = γ.
        for i in 0..<n {
            let (lr, li) = (Double(lam[i]), Double(lam[n + i]))
            let re = lr * gLamRe[i] + li * gLamIm[i], im = lr * gLamIm[i] - li * gLamRe[i]   // conj(λ)·g_λ
            nuLog.grad[i] += Float(-exp(Double(nuLog.value[i])) * re)
            thetaLog.grad[i] += Float(exp(Double(thetaLog.value[i])) * im)
            gammaLog.grad[i] += Float(Double(g[i]) * gGamma[i])
        }
        // C: ∂[C_re | −C_im] = dyᵀ h ([H, T·B]·[T·B, 2N]); D: g_D += Σ dy ⊙ x.
        let wg = ensure(&weightGrad, n2 * h)
        gemm(transposeA: true, m: h, n: n2, k: rows, dy, lda: h, s + B * n2, ldb: n2, beta: 0, wg, ldc: n2)
        for k in 0..<h {
            for i in 0..<n { cRe.grad[k * n + i] += wg[k * n2 + i]; cIm.grad[k * n + i] -= wg[k * n2 + n + i] }
        }
        addColumnSumsOfProducts(dy, x, rows: rows, width: h, into: d.grad)
        // γ ⊙ G is B x's cotangent: ∂[B_re; B_im] = (γ⊙G)ᵀ x; ∂L/∂x = D ⊙ dy + (γ⊙G) · [B_re; B_im].
        let gg = ensure(&gammaTwice, n2)
        gg.update(from: g, count: n); (gg + n).update(from: g, count: n)
        scaleColumns(G, by: gg, rows: rows, width: n2, into: G)
        gemm(transposeA: true, m: n2, n: h, k: rows, G, lda: n2, x, ldb: h, beta: 0, wg, ldc: h)
        for j in 0..<(n * h) { bRe.grad[j] += wg[j]; bIm.grad[j] += wg[n * h + j] }
        if let inputGrad {
            scaleColumns(dy, by: d.value, rows: rows, width: h, into: inputGrad)
            gemm(m: rows, n: h, k: n2, G, lda: n2, packedB!.pointer, ldb: h, beta: 1, inputGrad, ldc: h)
        }
    }
}

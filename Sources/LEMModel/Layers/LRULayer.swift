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

    public private(set) var steps = 0, batch = 0
    private var lambda: FloatBuffer?            // [2N]: Re λ, Im λ
    private var gamma: FloatBuffer?             // [N]
    private var projected: FloatBuffer?         // [2, T, B, N]: Re, Im of B x_t (unscaled)
    private var states: FloatBuffer?            // [2, T+1, B, N]: Re, Im of h₀ … h_T
    private var output: FloatBuffer?            // [T, B, H]
    private var finalState: FloatBuffer?        // [B, 2N]
    private var input: UnsafePointer<Float>?
    private var inputCopy: FloatBuffer?
    private var cotangents: FloatBuffer?        // [2, T, B, N]: backward's G, then γ ⊙ G
    private var outputGradCopy: FloatBuffer?    // [T, B, H]: dy with the final step's extra gradient

    /// y₁ … y_T of the last forward pass, `[T, B, H]`.
    public var outputs: UnsafeMutablePointer<Float> { output!.pointer }
    /// h_T of the last forward pass, `[B, 2N]` (real parts, then imaginary parts, per sequence).
    public var finalStates: UnsafeMutablePointer<Float> { finalState!.pointer }

    // MARK: - Forward

    /// Runs `T` steps of `B` sequences: `input` `[T, B, H]`, `initialState` `[B, 2N]` or nil (zeros).
    /// With `inputStaysValid` the caller keeps `input` unchanged until `backward` has returned.
    public func forward(input x: UnsafePointer<Float>, steps T: Int, batch B: Int, initialState: UnsafePointer<Float>? = nil,
                        inputStaysValid: Bool = false) {
        precondition(T > 0 && B > 0, "LRU forward needs at least one step and one sequence")
        let (h, n) = (width, stateSize)
        (steps, batch) = (T, B)
        if inputStaysValid { input = x } else {
            let copy = ensure(&inputCopy, T * B * h)
            copy.update(from: x, count: T * B * h)
            input = UnsafePointer(copy)
        }
        let lam = ensure(&lambda, 2 * n), g = ensure(&gamma, n)
        for i in 0..<n {
            let modulus = exp(-exp(Double(nuLog.value[i]))), phase = exp(Double(thetaLog.value[i]))
            lam[i] = Float(modulus * cos(phase)); lam[n + i] = Float(modulus * sin(phase))
            g[i] = Float(exp(Double(gammaLog.value[i])))
        }
        let rows = T * B, plane = rows * n
        let u = ensure(&projected, 2 * plane)
        // B x for every step: [T·B, H]·[H, N] for each of B_re, B_im (stored [N, H]: transposed).
        gemm(transposeB: true, m: rows, n: n, k: h, input!, lda: h, bRe.value, ldb: h, beta: 0, u, ldc: n)
        gemm(transposeB: true, m: rows, n: n, k: h, input!, lda: h, bIm.value, ldb: h, beta: 0, u + plane, ldc: n)
        // The recurrence, the only per-step work: h_t = λ ⊙ h_{t−1} + γ ⊙ (B x_t).
        let statePlane = (T + 1) * B * n
        let s = ensure(&states, 2 * statePlane)
        let (sRe, sIm) = (s, s + statePlane)
        for b in 0..<B {
            for i in 0..<n {
                sRe[b * n + i] = initialState?[b * 2 * n + i] ?? 0
                sIm[b * n + i] = initialState?[b * 2 * n + n + i] ?? 0
            }
        }
        for t in 0..<T {
            let (prevRe, prevIm) = (sRe + t * B * n, sIm + t * B * n)
            let (nextRe, nextIm) = (sRe + (t + 1) * B * n, sIm + (t + 1) * B * n)
            let (uRe, uIm) = (u + t * B * n, u + plane + t * B * n)
            for b in 0..<B {
                for i in 0..<n {
                    let j = b * n + i
                    let (lr, li, hr, hi) = (lam[i], lam[n + i], prevRe[j], prevIm[j])
                    nextRe[j] = lr * hr - li * hi + g[i] * uRe[j]
                    nextIm[j] = lr * hi + li * hr + g[i] * uIm[j]
                }
            }
        }
        // y = Re h · C_reᵀ − Im h · C_imᵀ + D ⊙ x.
        let y = ensure(&output, rows * h)
        for r in 0..<rows { for k in 0..<h { y[r * h + k] = d.value[k] * input![r * h + k] } }
        gemm(transposeB: true, m: rows, n: h, k: n, sRe + B * n, lda: n, cRe.value, ldb: n, beta: 1, y, ldc: h)
        gemm(transposeB: true, m: rows, n: h, k: n, alpha: -1, sIm + B * n, lda: n, cIm.value, ldb: n, beta: 1, y, ldc: h)
        let last = ensure(&finalState, B * 2 * n)
        for b in 0..<B {
            for i in 0..<n {
                last[b * 2 * n + i] = sRe[(T * B + b) * n + i]
                last[b * 2 * n + n + i] = sIm[(T * B + b) * n + i]
            }
        }
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
        let rows = T * B, plane = rows * n, statePlane = (T + 1) * B * n
        let x = input!, lam = lambda!.pointer, g = gamma!.pointer, u = projected!.pointer
        let (sRe, sIm) = (states!.pointer, states!.pointer + statePlane)
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
        // C^H dy for every step: Re = dy · C_re, Im = −dy · C_im ([T·B, H]·[H, N]).
        let G = ensure(&cotangents, 2 * plane)
        let (gRe, gIm) = (G, G + plane)
        gemm(m: rows, n: n, k: h, dy, lda: h, cRe.value, ldb: n, beta: 0, gRe, ldc: n)
        gemm(m: rows, n: n, k: h, alpha: -1, dy, lda: h, cIm.value, ldb: n, beta: 0, gIm, ldc: n)
        // The reverse scan G_t += conj(λ) ⊙ G_{t+1} (G_T also gets ∂L/∂h_T from a later window), with the
        // gradients of λ and γ summed on the way: g_λ += conj(h_{t−1}) ⊙ G_t, g_γ += Re(conj(Bx_t) ⊙ G_t).
        var gLamRe = [Double](repeating: 0, count: n), gLamIm = [Double](repeating: 0, count: n), gGamma = [Double](repeating: 0, count: n)
        for t in stride(from: T - 1, through: 0, by: -1) {
            for b in 0..<B {
                for i in 0..<n {
                    let j = (t * B + b) * n + i
                    var (cr, ci) = (gRe[j], gIm[j])
                    if t < T - 1 {
                        let (nr, ni) = (gRe[j + B * n], gIm[j + B * n])
                        cr += lam[i] * nr + lam[n + i] * ni
                        ci += lam[i] * ni - lam[n + i] * nr
                    } else if let finalStateGrad {   // ∂L/∂h_T itself
                        cr += finalStateGrad[b * 2 * n + i]
                        ci += finalStateGrad[b * 2 * n + n + i]
                    }
                    (gRe[j], gIm[j]) = (cr, ci)
                    let (pr, pi) = (sRe[j], sIm[j])   // h_{t−1}: states are offset by one step
                    gLamRe[i] += Double(pr * cr + pi * ci)
                    gLamIm[i] += Double(pr * ci - pi * cr)
                    gGamma[i] += Double(u[j] * cr + u[plane + j] * ci)
                }
            }
        }
        if let initialStateGrad {
            for b in 0..<B {
                for i in 0..<n {
                    let (cr, ci) = (gRe[b * n + i], gIm[b * n + i])
                    initialStateGrad[b * 2 * n + i] = lam[i] * cr + lam[n + i] * ci
                    initialStateGrad[b * 2 * n + n + i] = lam[i] * ci - lam[n + i] * cr
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
        // C: g_C_re += dyᵀ Re h, g_C_im −= dyᵀ Im h ([H, T·B]·[T·B, N]); D: g_D += Σ dy ⊙ x.
        gemm(transposeA: true, m: h, n: n, k: rows, dy, lda: h, sRe + B * n, ldb: n, beta: 1, cRe.grad, ldc: n)
        gemm(transposeA: true, m: h, n: n, k: rows, alpha: -1, dy, lda: h, sIm + B * n, ldb: n, beta: 1, cIm.grad, ldc: n)
        for r in 0..<rows { for k in 0..<h { d.grad[k] += dy[r * h + k] * x[r * h + k] } }
        // γ ⊙ G is B x's cotangent: g_B_re += (γ ⊙ Re G)ᵀ x, g_B_im += (γ ⊙ Im G)ᵀ x; ∂L/∂x = D ⊙ dy + (γ⊙Re G) B_re + (γ⊙Im G) B_im.
        for r in 0..<rows { for i in 0..<n { gRe[r * n + i] *= g[i]; gIm[r * n + i] *= g[i] } }
        gemm(transposeA: true, m: n, n: h, k: rows, gRe, lda: n, x, ldb: h, beta: 1, bRe.grad, ldc: h)
        gemm(transposeA: true, m: n, n: h, k: rows, gIm, lda: n, x, ldb: h, beta: 1, bIm.grad, ldc: h)
        if let inputGrad {
            for r in 0..<rows { for k in 0..<h { inputGrad[r * h + k] = d.value[k] * dy[r * h + k] } }
            gemm(m: rows, n: h, k: n, gRe, lda: n, bRe.value, ldb: h, beta: 1, inputGrad, ldc: h)
            gemm(m: rows, n: h, k: n, gIm, lda: n, bIm.value, ldb: h, beta: 1, inputGrad, ldc: h)
        }
    }
}

/// The GRU's elementwise gate math (PyTorch's `nn.GRU`), forward and backward, on 16 lanes at a
/// time. One kernel call handles one sequence: its row of the input-side matrix X[B, 3d], columns
/// [a_r | a_z | a_n] (W_ih u, PyTorch's gate order), and its row of the recurrent candidate term
/// N[B, d] (W_hn h), which the reset gate scales and backward needs again:
///
///     r = σ(a_r + W_hr h + b_r)   z = σ(a_z + W_hz h + b_z)       (b = b_ih + b_hh)
///     n = tanh(a_n + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// The recurrent products of r and z are added into X before the kernel runs; `bias` is
/// [b_r | b_z | b_in | b_hn]. The activations r, z, n overwrite X's row and W_hn h + b_hn
/// overwrites N's; backward overwrites them with the pre-activation gradients.

/// Forward of one row: writes r, z, n over X's row, W_hn h + b_hn over N's row, and h'.
struct GRUGatesForward: LaneKernel {
    let row: UnsafeMutablePointer<Float>, candidate: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
    let hPrev: UnsafeMutablePointer<Float>, hNext: UnsafeMutablePointer<Float>
    let d: Int
    @inline(always) func callAsFunction(_ j: Int, _ k: Int) {
        let r = sigmoidFast(lanes(row + j, k) + lanes(bias + j, k))
        let z = sigmoidFast(lanes(row + d + j, k) + lanes(bias + d + j, k))
        let hn = lanes(candidate + j, k) + lanes(bias + 3 * d + j, k)
        let n = tanhFast(lanes(row + 2 * d + j, k) + lanes(bias + 2 * d + j, k) + r * hn)
        put(r, row + j, k)
        put(z, row + d + j, k)
        put(n, row + 2 * d + j, k)
        put(hn, candidate + j, k)
        put((1 - z) * n + z * lanes(hPrev + j, k), hNext + j, k)
    }
}

/// Backward of one row for g = ∂L/∂h' (`hGrad`, replaced by the direct part of ∂L/∂h, g ⊙ z):
///
///     ∂n = g(1 − z)   ∂z = g(h − n)   ∂a_n = ∂n(1 − n²)   ∂r = ∂a_n ⊙ (W_hn h + b_hn)
///
/// X's row becomes [∂a_r | ∂a_z | ∂a_n] (the gradients of the input-side pre-activations, and of
/// the recurrent ones of r and z); N's row becomes ∂(W_hn h + b_hn) = ∂a_n ⊙ r.
struct GRUGatesBackward: LaneKernel {
    let row: UnsafeMutablePointer<Float>, candidate: UnsafeMutablePointer<Float>
    let hPrev: UnsafeMutablePointer<Float>, hGrad: UnsafeMutablePointer<Float>
    let d: Int
    @inline(always) func callAsFunction(_ j: Int, _ k: Int) {
        let r = lanes(row + j, k), z = lanes(row + d + j, k), n = lanes(row + 2 * d + j, k)
        let hn = lanes(candidate + j, k)
        let g = lanes(hGrad + j, k)
        let dn = g * (1 - z) * (1 - n * n)
        put(dn * hn * r * (1 - r), row + j, k)
        put(g * (lanes(hPrev + j, k) - n) * z * (1 - z), row + d + j, k)
        put(dn, row + 2 * d + j, k)
        put(dn * r, candidate + j, k)
        put(g * z, hGrad + j, k)
    }
}

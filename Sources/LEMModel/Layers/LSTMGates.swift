/// The LSTM's elementwise gate math (PyTorch's `nn.LSTM`), forward and backward, on 16 lanes at
/// a time. One kernel call handles one sequence's row of the gate matrix X[B, 4d], columns
/// [a_i | a_f | a_g | a_o] (PyTorch's gate order); the activations overwrite their
/// pre-activations in forward, and the pre-activation gradients overwrite the activations in
/// backward.
///
///     i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
///     c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')

/// Forward of one row: from the pre-activations (input and recurrent products) plus `bias`
/// (b_ih + b_hh), writes i, f, g, o over them, and c', h'.
struct LSTMGatesForward: LaneKernel {
    let row: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
    let cPrev: UnsafeMutablePointer<Float>, cNext: UnsafeMutablePointer<Float>, hNext: UnsafeMutablePointer<Float>
    let d: Int
    @inline(always) func callAsFunction(_ j: Int, _ n: Int) {
        let i = sigmoidFast(lanes(row + j, n) + lanes(bias + j, n))
        let f = sigmoidFast(lanes(row + d + j, n) + lanes(bias + d + j, n))
        let g = tanhFast(lanes(row + 2 * d + j, n) + lanes(bias + 2 * d + j, n))
        let o = sigmoidFast(lanes(row + 3 * d + j, n) + lanes(bias + 3 * d + j, n))
        let c = f * lanes(cPrev + j, n) + i * g
        put(i, row + j, n)
        put(f, row + d + j, n)
        put(g, row + 2 * d + j, n)
        put(o, row + 3 * d + j, n)
        put(c, cNext + j, n)
        put(o * tanhFast(c), hNext + j, n)
    }
}

/// Backward of one row for ∂L/∂h' (`hGrad`) and ∂L/∂c' (`cGrad`, updated in place to ∂L/∂c):
///
///     ∂o = ∂h'·tanh(c')          ∂c' += ∂h'·o·(1 − tanh²(c'))
///     ∂i = ∂c'·g   ∂g = ∂c'·i   ∂f = ∂c'·c   ∂c = ∂c'·f
///
/// and the pre-activation gradients ∂a = ∂gate · (its derivative) over the activations.
struct LSTMGatesBackward: LaneKernel {
    let row: UnsafeMutablePointer<Float>
    let cPrev: UnsafeMutablePointer<Float>, cNext: UnsafeMutablePointer<Float>
    let hGrad: UnsafeMutablePointer<Float>, cGrad: UnsafeMutablePointer<Float>
    let d: Int
    @inline(always) func callAsFunction(_ j: Int, _ n: Int) {
        let i = lanes(row + j, n), f = lanes(row + d + j, n), g = lanes(row + 2 * d + j, n), o = lanes(row + 3 * d + j, n)
        let dh = lanes(hGrad + j, n)
        let tc = tanhFast(lanes(cNext + j, n))
        let dc = lanes(cGrad + j, n) + dh * o * (1 - tc * tc)
        put(dc * g * i * (1 - i), row + j, n)
        put(dc * lanes(cPrev + j, n) * f * (1 - f), row + d + j, n)
        put(dc * i * (1 - g * g), row + 2 * d + j, n)
        put(dh * tc * o * (1 - o), row + 3 * d + j, n)
        put(dc * f, cGrad + j, n)
    }
}

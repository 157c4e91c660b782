/// inp2hid's weight W_in `[4d, m]` as the LEM layer's gate order uses it, and the route of its
/// products. The layer keeps X's columns in the order [ ȳ-gate | z-gate | z-candidate |
/// y-candidate ] (so that the recurrent products add into X in place, see `LEMLayer`), while
/// inp2hid's rows, as PyTorch stores them, are [ ȳ | z | y-candidate | z-candidate ]: the last
/// two blocks swap.
///
/// Routes of X[T·B, 4d] = U · W_inᵀ, chosen per window:
/// - `int8`: after `quantize()`, an int8 copy in the gate order (inference only);
/// - with copies (several steps of small products, the layer's rule): a copy of W_in in the gate
///   order, then one product for the whole sequence, or — when each gate's product of a step is
///   small and there are at least 16 sequences — step by step from its transpose (the
///   small-matrix kernels write X directly, without the zeroing pass a large product with β = 0
///   makes over all of X);
/// - else W_in's row blocks in place (a single step, or a single sequence through a large layer).
final class LEMInputProjection {
    let weight: Parameter
    let m: Int, d: Int
    private var gateOrderCopy: FloatBuffer?   // [4d, m]
    private var transposedCopy: FloatBuffer?  // [m, 4d]
    private var int8: Int8Matrix?
    /// Whether the current window's products read the gate-order copy (its input gradient does too).
    private(set) var usesCopy = false
    /// Whether the current window's products run step by step (`forwardStep`).
    private(set) var stepwise = false

    init(_ weight: Parameter, inputSize m: Int, hiddenSize d: Int) { (self.weight, self.m, self.d) = (weight, m, d) }

    /// W_in's rows in blocks that map to X's columns: ȳ- and z-gates stay in place, the y- and
    /// z-candidates swap.
    var blocks: [(column: Int, weightRow: Int, width: Int)] {
        [(column: 0, weightRow: 0, width: 2 * d), (column: 2 * d, weightRow: 3 * d, width: d), (column: 3 * d, weightRow: 2 * d, width: d)]
    }

    /// Writes W_in `[4d, m]` with its rows in the gate order into `w`.
    private func copyInGateOrder(into w: UnsafeMutablePointer<Float>) {
        for block in blocks { (w + block.column * m).update(from: weight.value + block.weightRow * m, count: block.width * m) }
    }

    func quantize() {
        let copy = FloatBuffer(count: 4 * d * m)
        copyInGateOrder(into: copy.pointer)
        int8 = Int8Matrix(copy.pointer, rows: 4 * d, columns: m)
    }
    var isQuantized: Bool { int8 != nil }

    /// The window's input projection of U `[T·B, m]` into X `[T·B, 4d]` (β = 0), unless it runs
    /// step by step (then `forwardStep` fills each step's rows). `copies`: the layer's rule for
    /// several steps of small products; `smallGates`: each gate's per-step product is small.
    func forward(_ u: UnsafePointer<Float>, steps T: Int, batch B: Int, copies: Bool, smallGates: Bool, into x: UnsafeMutablePointer<Float>) {
        usesCopy = int8 == nil && copies
        stepwise = usesCopy && smallGates && B >= 16 && B * m * d <= 1_000_000
        if let int8 {
            int8.multiply(u, rows: T * B, into: x, accumulate: false)
        } else if usesCopy {
            let w = ensure(&gateOrderCopy, 4 * d * m)
            copyInGateOrder(into: w)
            if stepwise {
                transpose(w, rows: 4 * d, columns: m, into: ensure(&transposedCopy, m * 4 * d))
            } else {
                gemm(transposeB: true, m: T * B, n: 4 * d, k: m, u, lda: m, w, ldb: m, beta: 0, x, ldc: 4 * d)
            }
        } else {
            for block in blocks {
                gemm(transposeB: true, m: T * B, n: block.width, k: m, u, lda: m, weight.value + block.weightRow * m, ldb: m,
                     beta: 0, x + block.column, ldc: 4 * d)
            }
        }
    }

    /// One step's rows of X, `[B, 4d]`, gate by gate from the transposed copy (when `stepwise`).
    @inline(__always)
    func forwardStep(_ ut: UnsafePointer<Float>, batch B: Int, into xt: UnsafeMutablePointer<Float>) {
        let wt = transposedCopy!.pointer
        for g in 0..<4 { gemm(m: B, n: d, k: m, ut, lda: m, wt + g * d, ldb: 4 * d, beta: 0, xt + g * d, ldc: 4 * d) }
    }

    /// ∂W_in[4d, m] += ∂Xᵀ · U for `k` rows, block by block back into inp2hid's row order.
    func accumulateWeightGradient(_ dx: UnsafePointer<Float>, _ u: UnsafePointer<Float>, rows k: Int) {
        for block in blocks {
            gemm(transposeA: true, m: block.width, n: m, k: k, dx + block.column, lda: 4 * d, u, ldb: m,
                 beta: 1, weight.grad + block.weightRow * m, ldc: m)
        }
    }

    /// ∂U[rows, m] = ∂X · W_in (in the gate order), overwritten.
    func inputGradient(_ dx: UnsafePointer<Float>, rows: Int, into du: UnsafeMutablePointer<Float>) {
        if usesCopy {
            gemm(m: rows, n: m, k: 4 * d, dx, lda: 4 * d, gateOrderCopy!.pointer, ldb: m, beta: 0, du, ldc: m)
            return
        }
        for (i, block) in blocks.enumerated() {
            gemm(m: rows, n: m, k: block.width, dx + block.column, lda: 4 * d, weight.value + block.weightRow * m, ldb: m,
                 beta: i == 0 ? 0 : 1, du, ldc: m)
        }
    }
}

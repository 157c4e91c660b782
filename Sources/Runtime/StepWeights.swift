/// A weight matrix W `[n, k]` (row-major: n outputs, k inputs; a block of a layer's parameters)
/// that a recurrent layer multiplies at every step of a window, with the product's route chosen
/// once per window:
///
///     forward:  C[B, n] (+)= A[B, k] · Wᵀ     (the recurrent input through the weights)
///     backward: C[B, k] (+)= G[B, n] · W      (the gradient of that product's input)
///
/// Routes, in order of preference:
/// - `int8`: after `quantize()` (inference only), per-row int8 weights (`Int8Matrix`);
/// - `packed`: large layers (`ProductPolicy.packsWeights`): W reordered once per window into
///   oneDNN's blocked layout, one brgemm per step (`StepProduct`);
/// - `transposedCopy` (forward, when the caller asks for copies): Wᵀ `[k, n]` copied once per
///   window, so each step is a plain A·B that OpenBLAS's small-matrix kernels or libxsmm run
///   without packing W at every call;
/// - `inPlace`: W as it is (a single step, or one sequence through a large layer: matrix–vector
///   products pack nothing, and a copy per window would cost more than it saves).
///
/// The layers hold one of these per recurrent weight block and never choose a library themselves.
/// Not thread-safe: each model replica has its own.
public final class StepWeights: @unchecked Sendable {
    public enum Route: Sendable { case int8, packed, transposedCopy, inPlace }

    /// Outputs (rows of W) and inputs (columns of W).
    public let n: Int, k: Int
    private let weights: UnsafeMutablePointer<Float>
    private var int8: Int8Matrix?
    private var copy: FloatBuffer?            // Wᵀ [k, n]
    private var forwardProduct: StepProduct?
    private var backwardProduct: StepProduct?, backwardAccumulatingProduct: StepProduct?
    /// The routes of the current window's forward and backward products.
    public private(set) var forwardRoute = Route.inPlace
    public private(set) var backwardRoute = Route.inPlace
    private var forwardLayout = (ldc: 0, accumulate: false)

    /// W is `rows` × `columns` floats at `weights` (row stride `columns`): a parameter or a block of its rows.
    public init(_ weights: UnsafeMutablePointer<Float>, rows n: Int, columns k: Int) {
        precondition(n > 0 && k > 0, "step weights need a positive shape")
        (self.weights, self.n, self.k) = (weights, n, k)
    }

    /// Quantises the current weights (`Int8Matrix`): from then on every forward product runs in
    /// int8 and there is no backward.
    public func quantize() { int8 = Int8Matrix(weights, rows: n, columns: k) }
    public var isQuantized: Bool { int8 != nil }

    /// Chooses the forward route for a window over `batch` sequences of a layer of `hidden`
    /// units and prepares it (packs or copies the current weights). `copies`: a transposed copy
    /// is worth making (several steps of small products: the caller's measured rule). The
    /// products of the window write C with row stride `ldc`, adding to it when `accumulate`.
    public func beginForward(batch: Int, hidden: Int, copies: Bool, ldc: Int? = nil, accumulate: Bool,
                             policy: ProductPolicy = .current) {
        forwardLayout = (ldc ?? n, accumulate)
        if int8 != nil { forwardRoute = .int8; return }
        if policy.packsWeights(hidden: hidden, batch: batch) {
            let product = StepProduct.prepared(&forwardProduct, m: batch, n: n, k: k, ldc: ldc, transposeW: true, accumulate: accumulate)
            product?.pack(weights)
            if product != nil { forwardRoute = .packed; return }
            // oneDNN could not build it (never seen): the other routes.
        }
        if copies {
            transpose(weights, rows: n, columns: k, into: ensure(&copy, k * n))
            forwardRoute = .transposedCopy
        } else {
            forwardRoute = .inPlace
        }
    }

    /// C[B, n] (+)= A[B, k] · Wᵀ on the window's route; A has row stride k. `columnBlocks`: with
    /// the transposed copy, as that many products of n/columnBlocks columns each (each small
    /// enough for the small-matrix kernels); the other routes make one product.
    @inline(__always)
    public func forward(_ a: UnsafePointer<Float>, rows: Int, into c: UnsafeMutablePointer<Float>, columnBlocks: Int = 1) {
        let (ldc, accumulate) = forwardLayout
        switch forwardRoute {
        case .int8:
            int8!.multiply(a, rows: rows, into: c, ldc: ldc, accumulate: accumulate)
        case .packed:
            forwardProduct!.multiply(a, into: c)
        case .transposedCopy:
            let wt = copy!.pointer, width = n / columnBlocks
            for g in 0..<columnBlocks {
                gemm(m: rows, n: width, k: k, a, lda: k, wt + g * width, ldb: n, beta: accumulate ? 1 : 0, c + g * width, ldc: ldc)
            }
        case .inPlace:
            gemm(transposeB: true, m: rows, n: n, k: k, a, lda: k, weights, ldb: k, beta: accumulate ? 1 : 0, c, ldc: ldc)
        }
    }

    /// Chooses the backward route for a window (packed weights for large layers, else W in place)
    /// and packs the current weights if needed. G has row stride `lda` (default n).
    public func beginBackward(batch: Int, hidden: Int, lda: Int? = nil, accumulate: Bool, policy: ProductPolicy = .current) {
        precondition(int8 == nil, "int8 weights serve inference only (no backward)")
        backwardRoute = .inPlace
        guard policy.packsWeights(hidden: hidden, batch: batch) else { return }
        let product = accumulate
            ? StepProduct.prepared(&backwardAccumulatingProduct, m: batch, n: k, k: n, lda: lda, transposeW: false, accumulate: true)
            : StepProduct.prepared(&backwardProduct, m: batch, n: k, k: n, lda: lda, transposeW: false, accumulate: false)
        product?.pack(weights)
        if product != nil { backwardRoute = .packed }
    }

    /// C[B, k] (+)= G[B, n] · W on the window's backward route (`accumulate` as given to
    /// `beginBackward`); G has row stride `lda`. `rowBlocks`: W in place as that many products
    /// over n/rowBlocks of its rows (small enough for the small-matrix kernels).
    @inline(__always)
    public func backward(_ g: UnsafePointer<Float>, rows: Int, lda: Int, into c: UnsafeMutablePointer<Float>, accumulate: Bool,
                         rowBlocks: Int = 1) {
        if backwardRoute == .packed {
            (accumulate ? backwardAccumulatingProduct : backwardProduct)!.multiply(g, into: c)
            return
        }
        let height = n / rowBlocks
        for j in 0..<rowBlocks {
            gemm(m: rows, n: k, k: height, g + j * height, lda: lda, weights + j * height * k, ldb: k,
                 beta: j == 0 && !accumulate ? 0 : 1, c, ldc: k)
        }
    }
}

/// out[c, r] = matrix[r, c] for a row-major [rows, columns] matrix, in cache-sized tiles.
package func transpose(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
    let tile = 32
    for r0 in stride(from: 0, to: rows, by: tile) {
        for c0 in stride(from: 0, to: columns, by: tile) {
            for r in r0..<min(r0 + tile, rows) {
                for c in c0..<min(c0 + tile, columns) { out[c * rows + r] = matrix[r * columns + c] }
            }
        }
    }
}

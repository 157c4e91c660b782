import CBLAS

// Every matrix product in the project goes through these two wrappers around OpenBLAS's
// cblas_sgemm, so that the row-major convention and the Int32 conversions live in one place.

/// `C[m×n] = alpha · op(A) · op(B) + beta · C`, all row-major; `op(X)` is `Xᵀ` when the flag is set.
/// `lda`, `ldb`, `ldc` are row strides, so sub-blocks of wider matrices can be used in place.
@inline(__always)
func gemm(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        // BLAS leaves C untouched for k == 0 only when beta == 1; make "beta · C" explicit.
        for r in 0..<m { for j in 0..<n { c[r * ldc + j] *= beta } }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Name of the OpenBLAS kernel set chosen at load time ("SkylakeX", "Cooperlake", "Haswell", …).
public func blasCoreName() -> String { String(cString: openblas_get_corename()) }

/// Number of threads OpenBLAS uses for one call.
public func blasThreadCount() -> Int { Int(openblas_get_num_threads()) }

/// Sets OpenBLAS's thread count (both cores by default; 1 when the caller parallelises itself).
public func setBLASThreadCount(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

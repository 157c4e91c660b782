import CBLAS
import CSmallGEMM
import Foundation

// Every float matrix product in the project goes through these wrappers around OpenBLAS's
// cblas_sgemm (and libxsmm's kernels for the small products of one thread), so that the
// row-major convention, the Int32 conversions and the choice of library live in one place.

/// `C[m×n] = alpha · op(A) · op(B) + beta · C`, all row-major; `op(X)` is `Xᵀ` when the flag is set.
/// `lda`, `ldb`, `ldc` are row strides, so sub-blocks of wider matrices can be used in place.
@inline(__always)
package func gemm(
    transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
    beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard m > 0, n > 0 else { return }
    // A single row or column is a matrix–vector product: sgemv reads the matrix once, where
    // sgemm would first pack (copy) all of it — 10 MB per sampled token for a 10k-word decoder.
    if m == 1 && k > 0 {
        // c[1, n] = a · op(B): with B [n, k] (transposed) that is B·a, with B [k, n] it is Bᵀ·a.
        cblas_sgemv(CblasRowMajor, transposeB ? CblasNoTrans : CblasTrans, Int32(transposeB ? n : k), Int32(transposeB ? k : n),
                    alpha, b, Int32(ldb), a, Int32(transposeA ? lda : 1), beta, c, 1)
        return
    }
    if n == 1 && k > 0 {
        // c[m, 1] = op(A) · b: with A [m, k] that is A·b, with A [k, m] (transposed) it is Aᵀ·b.
        cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(transposeA ? k : m), Int32(transposeA ? m : k),
                    alpha, a, Int32(lda), b, Int32(transposeB ? 1 : ldb), beta, c, Int32(ldc))
        return
    }
    if ProductPolicy.current.smallKernels, !transposeA, !transposeB, alpha == 1, beta == 0 || beta == 1, m <= 64, n <= 1024, k > 0, k <= 1024,
       openblas_get_num_threads() == 1,
       lem_small_gemm(Int32(m), Int32(n), Int32(k), a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc)) != 0 {
        return
    }
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

/// Achieved GFLOP/s of one n×n×n sgemm through the same BLAS the models use (the benchmarks'
/// "% of peak"): the best of `repeats` calls after one warm-up, so that a moment of interference
/// on a shared machine (seen on the reference VM: one run of 5 calls at 273 instead of 330) does
/// not lower the peak.
public func sgemmGFLOPS(n: Int, repeats: Int = 20) -> Double {
    let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
    var rng = RandomGenerator(seed: 1)
    rng.fillUniform(a.buffer, -1, 1)
    rng.fillUniform(b.buffer, -1, 1)
    var best = Double.infinity
    gemm(m: n, n: n, k: n, a.pointer, lda: n, b.pointer, ldb: n, beta: 0, c.pointer, ldc: n)
    for _ in 0..<repeats {
        let t0 = monotonicSeconds()
        gemm(m: n, n: n, k: n, a.pointer, lda: n, b.pointer, ldb: n, beta: 0, c.pointer, ldc: n)
        best = min(best, monotonicSeconds() - t0)
    }
    return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
}

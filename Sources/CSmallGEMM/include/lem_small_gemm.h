// Small matrix products through libxsmm's JIT kernels (Debian's libxsmm-dev): the per-step
// recurrent products of the kws and word shapes (Sources/LEMModel/Runtime/BLAS.swift).
#ifndef LEM_SMALL_GEMM_H
#define LEM_SMALL_GEMM_H

#ifdef __cplusplus
extern "C" {
#endif

/// C[m, n] = A[m, k] · B[k, n] + beta · C, all row-major with row strides lda, ldb, ldc;
/// beta must be 0 or 1. Returns 1 when libxsmm ran it, 0 when it has no kernel for the shape
/// (nothing is written then: the caller uses its BLAS).
int lem_small_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

#ifdef __cplusplus
}
#endif
#endif

// See include/lem_small_gemm.h. libxsmm is column-major: the row-major product C = A·B is the
// column-major product Cᵀ = Bᵀ·Aᵀ, i.e. libxsmm's (m, n, k) = (n, m, k) with B as its first
// operand. Kernels are generated once per shape and kept in libxsmm's registry (the dispatch is a
// hash lookup, thread-safe).
#include "lem_small_gemm.h"

#include <libxsmm.h>

int lem_small_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    const float alpha = 1;
    const libxsmm_blasint lda_ = ldb, ldb_ = lda, ldc_ = ldc;
    const int prefetch = LIBXSMM_GEMM_PREFETCH_NONE;   // the kernel is called with three pointers only
    libxsmm_smmfunction kernel = libxsmm_smmdispatch(n, m, k, &lda_, &ldb_, &ldc_, &alpha, &beta, NULL, &prefetch);
    if (!kernel) return 0;
    kernel(b, a, c);
    return 1;
}

// int8 products for inference: per-row symmetric int8 weights, activations quantised per row
// at every call, int32 accumulation, one float rescale at the end (Sources/CInt8/lem_int8.c).
#ifndef LEM_INT8_H
#define LEM_INT8_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// K rounded up to the 4-byte groups the kernel multiplies at once.
int lem_int8_padded_k(int k);
/// N rounded up to the 16 output columns of one block.
int lem_int8_padded_n(int n);
/// Bytes of the packed weights of an [n, k] matrix: padded_n(n) * padded_k(k).
size_t lem_int8_packed_bytes(int n, int k);

/// Quantises W [n, k] (row-major, row stride ldw) row by row: scale[j] = max|W[j,:]| / 127,
/// q = round-half-even(W · (1/scale)) in float32, clamped to [-127, 127] (an all-zero row gets
/// scale 0 and q = 0; a row holding a NaN gets scale NaN, so its outputs are NaN), into
/// the kernel's layout: blocks of 16 rows, each [k/4][16][4] (4 consecutive k of one row are
/// 4 consecutive bytes, so one 32-bit broadcast of 4 activations meets 16 rows at once).
/// row_sums[j] = Σ_k q[j,k] (the zero-point correction of the unsigned activations).
/// packed: lem_int8_packed_bytes(n, k) bytes; scales, row_sums: padded_n(n) entries.
void lem_int8_pack(const float *w, int n, int k, int ldw, int8_t *packed, float *scales, int32_t *row_sums);

/// The int8 value of W[row, column] in a packed matrix (tests and checks).
int8_t lem_int8_packed_value(const int8_t *packed, int k, int row, int column);

/// Quantises A [m, k] (row stride lda) row by row with the same rule as the weights:
/// s[i] = max|A[i,:]| / 127, q = round-half-even(A / s), stored as the unsigned q + 128 in
/// qa [m, padded_k(k)] (padding columns hold 128, i.e. zero).
void lem_int8_quantize_rows(const float *a, int m, int k, int lda, uint8_t *qa, float *a_scales);

/// C[m, n] (+)= diag(a_scales) · (qa − 128) · qᵀ · diag(scales): the product of the quantised A
/// and W in exact int32 arithmetic, rescaled once. C has row stride ldc; accumulate != 0 adds
/// to C instead of overwriting it. Uses AVX-512 VNNI when the build targets it, else portable C
/// with the same (exact) integer result.
void lem_int8_gemm(int m, int n, int k, const uint8_t *qa, const float *a_scales,
                   const int8_t *packed, const float *scales, const int32_t *row_sums,
                   float *c, int ldc, int accumulate);

/// The same product by the portable loop, whatever the build targets (tests compare the two).
void lem_int8_gemm_portable(int m, int n, int k, const uint8_t *qa, const float *a_scales,
                            const int8_t *packed, const float *scales, const int32_t *row_sums,
                            float *c, int ldc, int accumulate);

/// 1 when the kernel was built with AVX-512 VNNI, 0 for the portable loop.
int lem_int8_uses_vnni(void);

#ifdef __cplusplus
}
#endif
#endif

// int8 products for inference (see include/lem_int8.h for the contract).
//
// Why our own kernel rather than oneDNN's int8 matmul (not measured against it): the products
// here are small and per step (batch 1 sampling: [1, 256] · [256, 10000]), the activations must
// be quantised at every call anyway, and a kernel this size fuses the rescale (and the += of the
// recurrent products) into its store, needs no primitive per shape, and falls back to portable C
// with the same integers where there is no VNNI. docs/BENCHMARKS.md has its figures.
//
// Signed × signed products on VNNI: vpdpbusd multiplies unsigned by signed bytes, so the
// activations are stored as q + 128 and the correction 128 · Σ_k q_w is subtracted at the end
// (row_sums). Every path computes the same int32 sums, so results are identical on every CPU.
#include "lem_int8.h"

#include <math.h>
#include <string.h>

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define LEM_INT8_VNNI 1
#include <immintrin.h>
#else
#define LEM_INT8_VNNI 0
#endif

enum { BLOCK_ROWS = 16, GROUP = 4 };

int lem_int8_padded_k(int k) { return (k + GROUP - 1) / GROUP * GROUP; }
int lem_int8_padded_n(int n) { return (n + BLOCK_ROWS - 1) / BLOCK_ROWS * BLOCK_ROWS; }
size_t lem_int8_packed_bytes(int n, int k) { return (size_t)lem_int8_padded_n(n) * (size_t)lem_int8_padded_k(k); }
int lem_int8_uses_vnni(void) { return LEM_INT8_VNNI; }

static inline size_t packed_index(int kp, int row, int column) {
    return (size_t)(row / BLOCK_ROWS) * (size_t)kp * BLOCK_ROWS + (size_t)(column / GROUP) * (BLOCK_ROWS * GROUP)
         + (size_t)(row % BLOCK_ROWS) * GROUP + (size_t)(column % GROUP);
}

int8_t lem_int8_packed_value(const int8_t *packed, int k, int row, int column) {
    return packed[packed_index(lem_int8_padded_k(k), row, column)];
}

/// max |x[0..<k]| / 127: 0 for an all-zero row (and for one so small that 1/scale would
/// overflow: its values are zero at 8 bits), NaN when the row holds a NaN (the product's outputs
/// are then NaN, as in float, instead of a silently finite number).
static float row_scale(const float *x, int k) {
    float largest = 0;
    int nan = 0;
    for (int i = 0; i < k; i++) {
        largest = fmaxf(largest, fabsf(x[i]));
        nan |= x[i] != x[i];
    }
    if (nan) return NAN;
    float scale = largest / 127.0f;
    return isfinite(1 / scale) ? scale : 0;
}

/// 1 / scale, or 0 for a zero or NaN scale (every q is then 0).
static inline float inverse_of(float scale) { return scale > 0 ? 1 / scale : 0; }

static inline int quantise(float x, float inverse) {
    float q = nearbyintf(x * inverse);   // round half to even (the default rounding mode)
    return q > 127 ? 127 : (q < -127 ? -127 : (int)q);
}

void lem_int8_pack(const float *w, int n, int k, int ldw, int8_t *packed, float *scales, int32_t *row_sums) {
    int kp = lem_int8_padded_k(k), np = lem_int8_padded_n(n);
    memset(packed, 0, lem_int8_packed_bytes(n, k));
    for (int j = 0; j < np; j++) {
        if (j >= n) { scales[j] = 0; row_sums[j] = 0; continue; }
        const float *row = w + (size_t)j * ldw;
        float s = row_scale(row, k), inverse = inverse_of(s);
        int32_t sum = 0;
        for (int i = 0; i < k; i++) {
            int q = quantise(row[i], inverse);
            packed[packed_index(kp, j, i)] = (int8_t)q;
            sum += q;
        }
        scales[j] = s;
        row_sums[j] = sum;
    }
}

void lem_int8_quantize_rows(const float *a, int m, int k, int lda, uint8_t *qa, float *a_scales) {
    int kp = lem_int8_padded_k(k);
    for (int i = 0; i < m; i++) {
        const float *row = a + (size_t)i * lda;
        uint8_t *out = qa + (size_t)i * kp;
        float s = row_scale(row, k), inverse = inverse_of(s);
        for (int c = 0; c < k; c++) out[c] = (uint8_t)(quantise(row[c], inverse) + 128);
        for (int c = k; c < kp; c++) out[c] = 128;
        a_scales[i] = s;
    }
}

#if LEM_INT8_VNNI

/// One tile: MR rows of A × NR blocks of 16 columns, accumulated over all of K, then rescaled
/// and stored (masked in the last block). Inlined with constant MR, NR, so the accumulators
/// live in registers (MR · NR ≤ 24 of the 32 zmm registers).
static inline __attribute__((always_inline)) void tile(
    int MR, int NR, int kp, const uint8_t *qa, const float *a_scales, const int8_t *w, size_t block_bytes,
    const float *scales, const int32_t *row_sums, int columns_left, float *c, int ldc, int accumulate) {
    __m512i acc[6][4];
    for (int i = 0; i < MR; i++)
        for (int b = 0; b < NR; b++) acc[i][b] = _mm512_setzero_si512();
    for (int g = 0; g < kp / GROUP; g++) {
        __m512i wv[4];
        for (int b = 0; b < NR; b++) wv[b] = _mm512_loadu_si512((const void *)(w + b * block_bytes + (size_t)g * 64));
        for (int i = 0; i < MR; i++) {
            int32_t four;
            memcpy(&four, qa + (size_t)i * kp + (size_t)g * GROUP, 4);
            __m512i av = _mm512_set1_epi32(four);
            for (int b = 0; b < NR; b++) acc[i][b] = _mm512_dpbusd_epi32(acc[i][b], av, wv[b]);
        }
    }
    for (int b = 0; b < NR; b++) {
        int left = columns_left - b * BLOCK_ROWS;
        __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        __m512i correction = _mm512_slli_epi32(_mm512_loadu_si512((const void *)(row_sums + b * BLOCK_ROWS)), 7);
        __m512 ws = _mm512_loadu_ps(scales + b * BLOCK_ROWS);
        for (int i = 0; i < MR; i++) {
            __m512 value = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][b], correction)),
                                         _mm512_mul_ps(ws, _mm512_set1_ps(a_scales[i])));
            float *out = c + (size_t)i * ldc + b * BLOCK_ROWS;
            if (accumulate) value = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), value);
            _mm512_mask_storeu_ps(out, mask, value);
        }
    }
}

/// All column blocks for MR rows of A, four blocks at a time.
static inline __attribute__((always_inline)) void row_panel(
    int MR, int n, int kp, const uint8_t *qa, const float *a_scales, const int8_t *packed,
    const float *scales, const int32_t *row_sums, float *c, int ldc, int accumulate) {
    size_t block_bytes = (size_t)kp * BLOCK_ROWS;
    int blocks = (n + BLOCK_ROWS - 1) / BLOCK_ROWS;
    int b = 0;
    for (; b + 4 <= blocks; b += 4)
        tile(MR, 4, kp, qa, a_scales, packed + b * block_bytes, block_bytes, scales + b * BLOCK_ROWS,
             row_sums + b * BLOCK_ROWS, n - b * BLOCK_ROWS, c + b * BLOCK_ROWS, ldc, accumulate);
    int rest = blocks - b;
    const int8_t *w = packed + b * block_bytes;
    const float *s = scales + b * BLOCK_ROWS;
    const int32_t *r = row_sums + b * BLOCK_ROWS;
    float *out = c + b * BLOCK_ROWS;
    int left = n - b * BLOCK_ROWS;
    if (rest == 3) tile(MR, 3, kp, qa, a_scales, w, block_bytes, s, r, left, out, ldc, accumulate);
    else if (rest == 2) tile(MR, 2, kp, qa, a_scales, w, block_bytes, s, r, left, out, ldc, accumulate);
    else if (rest == 1) tile(MR, 1, kp, qa, a_scales, w, block_bytes, s, r, left, out, ldc, accumulate);
}

void lem_int8_gemm(int m, int n, int k, const uint8_t *qa, const float *a_scales,
                   const int8_t *packed, const float *scales, const int32_t *row_sums,
                   float *c, int ldc, int accumulate) {
    int kp = lem_int8_padded_k(k);
    int i = 0;
    for (; i + 6 <= m; i += 6)
        row_panel(6, n, kp, qa + (size_t)i * kp, a_scales + i, packed, scales, row_sums, c + (size_t)i * ldc, ldc, accumulate);
    switch (m - i) {
    case 5: row_panel(5, n, kp, qa + (size_t)i * kp, a_scales + i, packed, scales, row_sums, c + (size_t)i * ldc, ldc, accumulate); break;
    case 4: row_panel(4, n, kp, qa + (size_t)i * kp, a_scales + i, packed, scales, row_sums, c + (size_t)i * ldc, ldc, accumulate); break;
    case 3: row_panel(3, n, kp, qa + (size_t)i * kp, a_scales + i, packed, scales, row_sums, c + (size_t)i * ldc, ldc, accumulate); break;
    case 2: row_panel(2, n, kp, qa + (size_t)i * kp, a_scales + i, packed, scales, row_sums, c + (size_t)i * ldc, ldc, accumulate); break;
    case 1: row_panel(1, n, kp, qa + (size_t)i * kp, a_scales + i, packed, scales, row_sums, c + (size_t)i * ldc, ldc, accumulate); break;
    default: break;
    }
}

#else

void lem_int8_gemm(int m, int n, int k, const uint8_t *qa, const float *a_scales,
                   const int8_t *packed, const float *scales, const int32_t *row_sums,
                   float *c, int ldc, int accumulate) {
    lem_int8_gemm_portable(m, n, k, qa, a_scales, packed, scales, row_sums, c, ldc, accumulate);
}

#endif

void lem_int8_gemm_portable(int m, int n, int k, const uint8_t *qa, const float *a_scales,
                            const int8_t *packed, const float *scales, const int32_t *row_sums,
                            float *c, int ldc, int accumulate) {
    int kp = lem_int8_padded_k(k);
    for (int i = 0; i < m; i++) {
        const uint8_t *a = qa + (size_t)i * kp;
        for (int j = 0; j < n; j++) {
            const int8_t *w = packed + packed_index(kp, j, 0);
            int32_t sum = 0;
            for (int g = 0; g < kp / GROUP; g++)
                for (int e = 0; e < GROUP; e++) sum += (int32_t)a[g * GROUP + e] * (int32_t)w[g * BLOCK_ROWS * GROUP + e];
            float value = (float)(sum - row_sums[j] * 128) * (scales[j] * a_scales[i]);
            float *out = c + (size_t)i * ldc + j;
            *out = accumulate ? *out + value : value;
        }
    }
}


// The small per-step products of the kws and word shapes, one core each (as `lm`/`kws` run
// them: one model replica per core): OpenBLAS cblas_sgemm on the transposed weight copy (what
// LEMLayer does today) against libxsmm's JIT kernel for exactly that shape (Debian's
// libxsmm-dev 1.17), and against oneDNN's matmul on reordered weights.
//
//   gcc -O2 -march=native tools/bench/small_products.c -o small_products -lopenblas -lxsmm -ldnnl -lm
//   OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./small_products
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#include <cblas.h>
#include <libxsmm.h>
#include <oneapi/dnnl/dnnl.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define CHECK(x) do { dnnl_status_t s = (x); if (s != dnnl_success) { printf("oneDNN error %d at %s\n", s, #x); exit(1); } } while (0)

// C[M,N] += A[M,K] · B[K,N], all row-major (B = the transposed weight copy), three ways.
static void run(const char *name, int M, int N, int K, int ldc) {
    float *A = malloc(4L * M * K), *B = malloc(4L * K * N), *C = malloc(4L * M * ldc), *R = malloc(4L * M * ldc);
    for (long i = 0; i < (long)M * K; i++) A[i] = (rand() % 200) / 100.f - 1;
    for (long i = 0; i < (long)K * N; i++) B[i] = (rand() % 200) / 200.f - 0.5f;
    for (long i = 0; i < (long)M * ldc; i++) C[i] = R[i] = 0;
    // libxsmm is column-major: row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ (m = N, n = M).
    float alpha = 1, beta = 1;
    libxsmm_smmfunction kernel = libxsmm_smmdispatch(N, M, K, &N, &K, &ldc, &alpha, &beta, NULL, NULL);
    if (!kernel) { printf("%s: libxsmm has no kernel\n", name); return; }
    // oneDNN matmul, weights reordered once.
    dnnl_engine_t engine; CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    dnnl_stream_t stream; CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    dnnl_memory_desc_t a_md, w_md, w_any, c_md; dnnl_dims_t ad = {M, K}, wd = {K, N}, cd = {M, N}, as = {K, 1}, cs = {ldc, 1};
    CHECK(dnnl_memory_desc_init_by_strides(&a_md, 2, ad, dnnl_f32, as));
    CHECK(dnnl_memory_desc_init_by_tag(&w_md, 2, wd, dnnl_f32, dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&w_any, 2, wd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_strides(&c_md, 2, cd, dnnl_f32, cs));
    dnnl_matmul_desc_t md; CHECK(dnnl_matmul_desc_init(&md, &a_md, &w_any, NULL, &c_md));
    dnnl_primitive_attr_t attr; CHECK(dnnl_primitive_attr_create(&attr));
    dnnl_post_ops_t po; CHECK(dnnl_post_ops_create(&po)); CHECK(dnnl_post_ops_append_sum(po, 1.0f)); CHECK(dnnl_primitive_attr_set_post_ops(attr, po));
    dnnl_primitive_desc_t pd; CHECK(dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL));
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_t mm; CHECK(dnnl_primitive_create(&mm, pd));
    dnnl_memory_t am, wm, wp, cm;
    CHECK(dnnl_memory_create(&am, &a_md, engine, A)); CHECK(dnnl_memory_create(&wm, &w_md, engine, B));
    CHECK(dnnl_memory_create(&wp, wq, engine, DNNL_MEMORY_ALLOCATE)); CHECK(dnnl_memory_create(&cm, &c_md, engine, C));
    dnnl_primitive_desc_t rpd; CHECK(dnnl_reorder_primitive_desc_create(&rpd, &w_md, engine, wq, engine, NULL));
    dnnl_primitive_t reorder; CHECK(dnnl_primitive_create(&reorder, rpd));
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wm}, {DNNL_ARG_TO, wp}};
    CHECK(dnnl_primitive_execute(reorder, stream, 2, rargs)); dnnl_stream_wait(stream);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, wp}, {DNNL_ARG_DST, cm}};

    // Same result first (one product from zero each way).
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 1, R, ldc);
    kernel(B, A, C);
    double worst = 0;
    for (int i = 0; i < M; i++) for (int j = 0; j < N; j++) worst = fmax(worst, fabs(C[i * ldc + j] - R[i * ldc + j]));
    int reps = (int)(2e9 / (2.0 * M * N * K)) + 10;
    double flops = 2.0 * M * N * K;
    printf("%-28s M%-4d N%-4d K%-4d (libxsmm vs OpenBLAS max |diff| %.1e)\n", name, M, N, K, worst);
    for (int round = 0; round < 2; round++) {
        double t0 = now();
        for (int i = 0; i < reps; i++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, A, K, B, N, 1, R, ldc);
        double tb = (now() - t0) / reps;
        t0 = now();
        for (int i = 0; i < reps; i++) kernel(B, A, C);
        double tx = (now() - t0) / reps;
        t0 = now();
        for (int i = 0; i < reps; i++) dnnl_primitive_execute(mm, stream, 3, args);
        dnnl_stream_wait(stream);
        double td = (now() - t0) / reps;
        printf("    round %d: OpenBLAS %6.2f us %5.1f GF/s | libxsmm %6.2f us %5.1f GF/s | oneDNN packed %6.2f us %5.1f GF/s\n", round + 1,
               tb * 1e6, flops / tb / 1e9, tx * 1e6, flops / tx / 1e9, td * 1e6, flops / td / 1e9);
    }
    free(A); free(B); free(C); free(R);
}

int main(void) {
    libxsmm_init();
    // Per core: kws batch 100 → 50 sequences, hidden 128; word batch 64 → 32 streams, hidden 256.
    run("kws fwd y·W_hᵀ [50,128]·[128,384]", 50, 384, 128, 512);
    run("kws fwd z·W_zᵀ [50,128]·[128,128]", 50, 128, 128, 512);
    run("kws fwd gate [50,128]·[128,128]", 50, 128, 128, 512);
    run("kws bwd ∂X·W_h [50,384]·[384,128]", 50, 128, 384, 128);
    run("word fwd y·W_hᵀ [32,256]·[256,768]", 32, 768, 256, 1024);
    run("word fwd z·W_zᵀ [32,256]·[256,256]", 32, 256, 256, 1024);
    run("word bwd ∂X·W_h [32,768]·[768,256]", 32, 256, 768, 256);
    libxsmm_finalize();
    return 0;
}

import CDNNL
import Foundation

/// C[M×N] (+)= A[M×K] · op(W) for a weight matrix W that a recurrent layer multiplies at every
/// step of a window between two optimizer steps: W is reordered once per window into oneDNN's
/// blocked layout (`pack`), then each step is one oneDNN matmul (brgemm) on it, with no
/// per-call packing of W. OpenBLAS, by contrast, copies ("packs") all of W at every call: at the
/// char shape (A [128, 1024] · W [1024, 4096] and A [128, 4096] · W [4096, 1024]) that is 16 MB
/// per step, which the packed weights save for the price of one reorder per window
/// (measurements in docs/BENCHMARKS.md).
///
/// All matrices are row-major; A and C may be column blocks of wider matrices (row strides `lda`,
/// `ldc`), W is contiguous: [N, K] when `transposeW` (A·Wᵀ, as h·W_hhᵀ in the forward pass), else
/// [K, N] (A·W, as ∂gates·W_hh in the backward pass). `accumulate`: C += instead of C =.
package final class StepProduct: @unchecked Sendable {
    package let m: Int, n: Int, k: Int, lda: Int, ldc: Int
    package let transposeW: Bool, accumulate: Bool
    private var engine: dnnl_engine_t?
    private var stream: dnnl_stream_t?
    private var matmul: dnnl_primitive_t?
    private var reorder: dnnl_primitive_t?
    private var source: dnnl_memory_t?, weights: dnnl_memory_t?, packed: dnnl_memory_t?, destination: dnnl_memory_t?

    /// The product for these shapes, kept in `cache` while they stay the same; nil when oneDNN
    /// cannot build it. (Whether a layer's products are worth packing is `ProductPolicy`'s call.)
    package static func prepared(_ cache: inout StepProduct?, m: Int, n: Int, k: Int, lda: Int? = nil, ldc: Int? = nil,
                                 transposeW: Bool, accumulate: Bool) -> StepProduct? {
        if let c = cache, c.m == m, c.n == n, c.k == k, c.lda == lda ?? k, c.ldc == ldc ?? n { return c }
        cache = StepProduct(m: m, n: n, k: k, lda: lda, ldc: ldc, transposeW: transposeW, accumulate: accumulate)
        return cache
    }

    /// nil when oneDNN cannot build the primitive (the caller keeps using OpenBLAS).
    package init?(m: Int, n: Int, k: Int, lda: Int? = nil, ldc: Int? = nil, transposeW: Bool, accumulate: Bool) {
        (self.m, self.n, self.k, self.lda, self.ldc) = (m, n, k, lda ?? k, ldc ?? n)
        (self.transposeW, self.accumulate) = (transposeW, accumulate)
        guard build() else { release(); return nil }
    }

    deinit { release() }

    private func build() -> Bool {
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success,
              dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success else { return false }
        var a = dnnl_memory_desc_t(), w = dnnl_memory_desc_t(), wAny = dnnl_memory_desc_t(), c = dnnl_memory_desc_t()
        var aDims: [dnnl_dim_t] = [dnnl_dim_t(m), dnnl_dim_t(k)], wDims: [dnnl_dim_t] = [dnnl_dim_t(k), dnnl_dim_t(n)]
        var cDims: [dnnl_dim_t] = [dnnl_dim_t(m), dnnl_dim_t(n)]
        // The weights as the K×N matrix of the product: [N, K] row-major is its transpose ("ba").
        var aStrides: [dnnl_dim_t] = [dnnl_dim_t(lda), 1], cStrides: [dnnl_dim_t] = [dnnl_dim_t(ldc), 1]
        guard dnnl_memory_desc_init_by_strides(&a, 2, &aDims, dnnl_f32, &aStrides) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&w, 2, &wDims, dnnl_f32, transposeW ? dnnl_ba : dnnl_ab) == dnnl_success,
              dnnl_memory_desc_init_by_tag(&wAny, 2, &wDims, dnnl_f32, dnnl_format_tag_any) == dnnl_success,
              dnnl_memory_desc_init_by_strides(&c, 2, &cDims, dnnl_f32, &cStrides) == dnnl_success else { return false }
        var description = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&description, &a, &wAny, nil, &c) == dnnl_success else { return false }
        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success else { return false }
        defer { dnnl_primitive_attr_destroy(attributes) }
        if accumulate {
            var postOps: dnnl_post_ops_t?
            guard dnnl_post_ops_create(&postOps) == dnnl_success else { return false }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_sum(postOps, 1) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attributes, postOps) == dnnl_success else { return false }
        }
        var primitiveDescription: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&primitiveDescription, &description, attributes, engine, nil) == dnnl_success else { return false }
        defer { dnnl_primitive_desc_destroy(primitiveDescription) }
        guard let packedDescription = dnnl_primitive_desc_query_md(primitiveDescription, dnnl_query_weights_md, 0),
              dnnl_primitive_create(&matmul, primitiveDescription) == dnnl_success else { return false }
        let none = UnsafeMutableRawPointer(bitPattern: 0)   // DNNL_MEMORY_NONE: handles are set per call
        guard dnnl_memory_create(&source, &a, engine, none) == dnnl_success,
              dnnl_memory_create(&weights, &w, engine, none) == dnnl_success,
              dnnl_memory_create(&packed, packedDescription, engine, UnsafeMutableRawPointer(bitPattern: -1)) == dnnl_success,   // DNNL_MEMORY_ALLOCATE
              dnnl_memory_create(&destination, &c, engine, none) == dnnl_success else { return false }
        var reorderDescription: dnnl_primitive_desc_t?
        guard dnnl_reorder_primitive_desc_create(&reorderDescription, &w, engine, packedDescription, engine, nil) == dnnl_success else { return false }
        defer { dnnl_primitive_desc_destroy(reorderDescription) }
        return dnnl_primitive_create(&reorder, reorderDescription) == dnnl_success
    }

    private func release() {
        for memory in [source, weights, packed, destination] where memory != nil { dnnl_memory_destroy(memory) }
        if matmul != nil { dnnl_primitive_destroy(matmul) }
        if reorder != nil { dnnl_primitive_destroy(reorder) }
        if stream != nil { dnnl_stream_destroy(stream) }
        if engine != nil { dnnl_engine_destroy(engine) }
    }

    /// Reorders the current values of W into the packed layout (after every optimizer step).
    package func pack(_ w: UnsafePointer<Float>) {
        dnnl_memory_set_data_handle(weights, UnsafeMutableRawPointer(mutating: w))
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: weights), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: packed)]
        let status = dnnl_primitive_execute(reorder, stream, 2, &arguments)
        precondition(status == dnnl_success, "oneDNN reorder failed (\(status))")
        dnnl_stream_wait(stream)
    }

    /// C (+)= A · op(W) with the packed W.
    package func multiply(_ a: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>) {
        dnnl_memory_set_data_handle(source, UnsafeMutableRawPointer(mutating: a))
        dnnl_memory_set_data_handle(destination, c)
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: source), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: packed),
                         dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: destination)]
        let status = dnnl_primitive_execute(matmul, stream, 3, &arguments)
        precondition(status == dnnl_success, "oneDNN matmul failed (\(status))")
        dnnl_stream_wait(stream)
    }
}

import CInt8

/// A weight matrix W `[n, k]` held as per-row symmetric int8 for inference products:
/// W[j, :] ≈ scale[j] · q[j, :], scale[j] = max|W[j, :]| / 127, q integers in [−127, 127]
/// (round half to even). Each product quantises its activations the same way, row by row
/// (`A[i, :] ≈ s[i] · p[i, :]`), sums p·q exactly in int32 and rescales once:
///
///     C[i, j] (+)= s[i] · scale[j] · Σ_k p[i, k] q[j, k]
///
/// so the only errors are the two roundings to 8 bits; the integer sums are the same on every
/// CPU (AVX-512 VNNI kernel or portable C: `Sources/CInt8`). The packed weights are a quarter of
/// the float matrix: what a memory-bound product (sampling one token) reads.
///
/// Not thread-safe: each model replica quantises its own (the activation scratch is per matrix).
public final class Int8Matrix: @unchecked Sendable {
    /// n: output columns (rows of W); k: inputs (columns of W).
    public let n: Int, k: Int
    private let packed: UnsafeMutablePointer<Int8>
    private let scales: UnsafeMutablePointer<Float>
    private let rowSums: UnsafeMutablePointer<Int32>
    private var activations: UnsafeMutablePointer<UInt8>?, activationScales: UnsafeMutablePointer<Float>?
    private var activationRows = 0

    /// Quantises W `[n, k]`, row-major with row stride `rowStride` (default k): e.g. a block of
    /// rows of a larger weight is `weights + firstRow · k` with its row count.
    public init(_ weights: UnsafePointer<Float>, rows n: Int, columns k: Int, rowStride: Int? = nil) {
        precondition(n > 0 && k > 0, "an int8 matrix needs a positive shape")
        (self.n, self.k) = (n, k)
        let paddedN = Int(lem_int8_padded_n(Int32(n)))
        packed = .allocate(capacity: lem_int8_packed_bytes(Int32(n), Int32(k)))
        scales = .allocate(capacity: paddedN)
        rowSums = .allocate(capacity: paddedN)
        lem_int8_pack(weights, Int32(n), Int32(k), Int32(rowStride ?? k), packed, scales, rowSums)
    }

    deinit {
        packed.deallocate(); scales.deallocate(); rowSums.deallocate()
        activations?.deallocate(); activationScales?.deallocate()
    }

    /// Bytes of the packed weights (what one product reads).
    public var packedBytes: Int { lem_int8_packed_bytes(Int32(n), Int32(k)) }

    /// The stored integer q[row, column] and the row's scale (tests).
    func value(row: Int, column: Int) -> Int8 { lem_int8_packed_value(packed, Int32(k), Int32(row), Int32(column)) }
    func scale(row: Int) -> Float { scales[row] }

    /// Whether the products run on the AVX-512 VNNI kernel (else portable C). Decided when the
    /// package is built: like every target, CInt8 is compiled for the build machine's CPU
    /// (`-march=native`), so a binary is for machines like the one that built it.
    public static var usesVNNI: Bool { lem_int8_uses_vnni() != 0 }

    /// C[m, n] (+)= quantised(A[m, k]) · quantised(W)ᵀ; A has row stride `lda` (default k), C `ldc`
    /// (default n). `portable`: the portable C loop even where the VNNI kernel is built (tests:
    /// both give the same bits). Grows its activation scratch to the largest m seen; no other allocation.
    public func multiply(_ a: UnsafePointer<Float>, rows m: Int, lda: Int? = nil,
                         into c: UnsafeMutablePointer<Float>, ldc: Int? = nil, accumulate: Bool, portable: Bool = false) {
        guard m > 0 else { return }
        if m > activationRows {
            activations?.deallocate(); activationScales?.deallocate()
            activations = .allocate(capacity: m * Int(lem_int8_padded_k(Int32(k))))
            activationScales = .allocate(capacity: m)
            activationRows = m
        }
        lem_int8_quantize_rows(a, Int32(m), Int32(k), Int32(lda ?? k), activations, activationScales)
        let product = portable ? lem_int8_gemm_portable : lem_int8_gemm
        product(Int32(m), Int32(n), Int32(k), activations, activationScales, packed, scales, rowSums, c, Int32(ldc ?? n), accumulate ? 1 : 0)
    }
}

// Rows of any width in 16-lane chunks, for the elementwise passes whose per-feature vectors
// (LayerNorm's weight, a mask, the LRU's λ) keep the compiler from vectorising them itself: the
// buffers are reached through pointers it cannot prove distinct, so plain loops stay scalar
// (see "16 lanes of the gate functions" in FastMath.swift). A chunk is 16 lanes or the row's
// tail; a tail is loaded with zeros in its unused lanes and stored back only in its own lanes.

/// Calls `body(k, lanes)` for k = 0, 16, 32, … < `count`, lanes = min(16, count − k).
@inline(__always)
func forEachChunk(_ count: Int, _ body: (_ offset: Int, _ lanes: Int) -> Void) {
    var k = 0
    while k < count {
        body(k, min(16, count - k))
        k += 16
    }
}

/// The lane numbers 0 … 15, to mask a tail's unused lanes.
let laneNumbers = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/// `lanes` floats from `p` in the first lanes, zeros after (a half register when 8 lanes).
@inline(__always)
func loadLanes(_ p: UnsafePointer<Float>, _ lanes: Int) -> SIMD16<Float> {
    if lanes == 16 { return load16(p) }
    if lanes == 8 { return SIMD16(lowHalf: UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self), highHalf: .zero) }
    return loadPartial(p, lanes)
}
@inline(__always)
func loadLanes(_ p: UnsafeMutablePointer<Float>, _ lanes: Int) -> SIMD16<Float> { loadLanes(UnsafePointer(p), lanes) }

/// The first `lanes` lanes of `v` to `p`.
@inline(__always)
func storeLanes(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ lanes: Int) {
    if lanes == 16 { store16(v, p); return }
    if lanes == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v.lowHalf, as: SIMD8<Float>.self); return }
    storePartial(v, p, lanes)
}

/// `v` with lanes from `lanes` on set to 0 (a tail's unused lanes, before a sum).
@inline(__always)
func zeroingTail(_ v: SIMD16<Float>, _ lanes: Int) -> SIMD16<Float> {
    lanes == 16 ? v : v.replacing(with: 0, where: laneNumbers .>= Int32(lanes))
}

// The column sums and scalings below go row by row (each row's chunks together), so that a
// matrix larger than the caches streams through once: column by column would read it once per
// 16 columns. Per-chunk sums live in a small buffer that stays in L1.

/// `into[j] += Σ_r matrix[r·stride + j]` for j < columns (a bias gradient), row by row.
@inline(always)
func addColumnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, into out: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let row = matrix + r * stride
        for j in 0..<columns { out[j] += row[j] }
    }
}

/// target[k] += Σ_rows a[row · width + k] · b[row · width + k] for k < width: the column sums of
/// a ⊙ b (`[rows, width]` each), a per-feature scale's gradient, in 16-lane chunks.
func addColumnSumsOfProducts(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, width: Int,
                             into target: UnsafeMutablePointer<Float>) {
    let sums = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: (width + 15) / 16)
    defer { sums.deallocate() }
    sums.initialize(repeating: SIMD16(repeating: 0), count: (width + 15) / 16)
    for row in 0..<rows {
        let (ra, rb) = (a + row * width, b + row * width)
        var k = 0
        while k < width {
            let lanes = min(16, width - k)
            sums[k / 16] += loadLanes(ra + k, lanes) * loadLanes(rb + k, lanes)
            k += 16
        }
    }
    forEachChunk(width) { k, lanes in storeLanes(loadLanes(target + k, lanes) + sums[k / 16], target + k, lanes) }
}

/// out[row · width + k] = scale[k] · x[row · width + k] (`[rows, width]`, a per-feature scale;
/// `out` may be `x`).
func scaleColumns(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
    let full = width / 16 * 16
    for row in 0..<rows {
        let (r, o) = (x + row * width, out + row * width)
        var k = 0
        while k < full { store16(load16(scale + k) * load16(r + k), o + k); k += 16 }
        if k < width { storeLanes(loadLanes(scale + k, width - k) * loadLanes(r + k, width - k), o + k, width - k) }
    }
}

/// target[k] *= factor[k] for k < `count` (a row times a mask).
@inline(__always)
func multiplyLanes(_ target: UnsafeMutablePointer<Float>, by factor: UnsafePointer<Float>, count: Int) {
    forEachChunk(count) { k, lanes in storeLanes(loadLanes(target + k, lanes) * loadLanes(factor + k, lanes), target + k, lanes) }
}

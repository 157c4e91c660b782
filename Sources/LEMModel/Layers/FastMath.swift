/// Vectorisable activation functions for the per-step gate math.
///
/// Glibc's `tanhf` costs about 11 ns per element; these compile to a handful of AVX-512
/// instructions per 16 elements when the package is built with `-march=native`.

/// tanh(x) by Eigen's 13/6 rational approximation on [-7.9053, 7.9053] (clamped outside, where
/// tanh is ±1 to Float precision). Contract: |tanhFast(x) − tanh(x)| ≤ 1e-6 for every finite x
/// (tested against Double `tanh`; the measured maximum is about 4e-7).
@inline(always)
public func tanhFast(_ x: Float) -> Float {
    let clamp: Float = 7.90531110763549805
    let v = min(max(x, -clamp), clamp)
    let v2 = v * v
    var p: Float = -2.76076847742355e-16
    p = p * v2 + 2.00018790482477e-13
    p = p * v2 + -8.60467152213735e-11
    p = p * v2 + 5.12229709037114e-08
    p = p * v2 + 1.48572235717979e-05
    p = p * v2 + 6.37261928875436e-04
    p = p * v2 + 4.89352455891786e-03
    p = p * v
    var q: Float = 1.19825839466702e-06
    q = q * v2 + 1.18534705686654e-04
    q = q * v2 + 2.26843463243900e-03
    q = q * v2 + 4.89352518554385e-03
    return p / q
}

/// The logistic function 1 / (1 + e^−x), computed as ½ + ½·tanh(x/2) so it shares tanhFast's
/// accuracy (absolute error ≤ 1e-6) and vectorises the same way.
@inline(always)
public func sigmoidFast(_ x: Float) -> Float { 0.5 + 0.5 * tanhFast(0.5 * x) }

/// e^x by Cody–Waite range reduction and Cephes' degree-6 polynomial, with 2ⁿ built from the
/// exponent bits. Contract: relative error ≤ 1e-6 against Double `exp` for x in [−87, 88]
/// (measured about 2e-7); inputs are clamped to that range, so e^x for x < −87 returns
/// about 1.6e-38 instead of a denormal or zero, which is harmless in a softmax.
@inline(always)
public func expFast(_ x: Float) -> Float {
    let xc = min(max(x, -87), 88)
    let magic: Float = 12_582_912  // 1.5·2²³: adding it rounds to an integer held in the mantissa
    let shifted = xc * 1.442_695_04 + magic
    let n = shifted - magic
    let r = xc - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * r * r + r + 1
    let exponent = Int32(bitPattern: shifted.bitPattern &- magic.bitPattern) &+ 127
    return er * Float(bitPattern: UInt32(bitPattern: exponent << 23))
}

// MARK: - 16-wide versions for reductions
//
// Swift does not reassociate floating-point sums or maxima, so loops that reduce (Σ e^x, max x)
// stay scalar unless written with explicit vector accumulators, as below.

/// `expFast` on 16 lanes at once (same constants, same accuracy contract).
@inline(always)
func expFast(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var xc = x
    xc.replace(with: -87, where: xc .< -87)
    xc.replace(with: 88, where: xc .> 88)
    let magic = SIMD16<Float>(repeating: 12_582_912)
    let shifted = xc * 1.442_695_04 + magic
    let n = shifted - magic
    let r = xc - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * r * r + r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- Int32(bitPattern: magic[0].bitPattern)) &+ 127
    return er * unsafeBitCast(exponent &<< 23, to: SIMD16<Float>.self)
}

/// max of `count` floats (count ≥ 1).
@inline(always)
func maximum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var i = 0
    var best = p[0]
    if count >= 16 {
        var acc = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
        i = 16
        while i + 16 <= count {
            // `pointwiseMax` is scalarised (NaN rules); compare-and-blend is one vcmpps + vblendmps.
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
            acc.replace(with: v, where: v .> acc)
            i += 16
        }
        best = acc.max()
    }
    while i < count { best = max(best, p[i]); i += 1 }
    return best
}

/// Replaces p[j] by e^(p[j] − shift) and returns their sum.
@inline(always)
func exponentiateAndSum(_ p: UnsafeMutablePointer<Float>, _ count: Int, shift: Float) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    let s = SIMD16<Float>(repeating: shift)
    var i = 0
    while i + 16 <= count {
        let raw = UnsafeMutableRawPointer(p + i)
        let e = expFast(raw.loadUnaligned(as: SIMD16<Float>.self) - s)
        raw.storeBytes(of: e, as: SIMD16<Float>.self)
        acc += e
        i += 16
    }
    var sum = acc.sum()
    while i < count { let e = expFast(p[i] - shift); p[i] = e; sum += e; i += 1 }
    return sum
}

/// Σ e^(p[j] − shift) without changing p.
@inline(always)
func sumOfExponentials(_ p: UnsafePointer<Float>, _ count: Int, shift: Float) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    let s = SIMD16<Float>(repeating: shift)
    var i = 0
    while i + 16 <= count {
        acc += expFast(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) - s)
        i += 16
    }
    var sum = acc.sum()
    while i < count { sum += expFast(p[i] - shift); i += 1 }
    return sum
}

/// Σ e^(scale·(p[j] − shift)) without changing p (softmax at a temperature).
@inline(always)
func sumOfScaledExponentials(_ p: UnsafePointer<Float>, _ count: Int, scale: Float, shift: Float) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    let (s, k) = (SIMD16<Float>(repeating: shift), SIMD16<Float>(repeating: scale))
    var i = 0
    while i + 16 <= count {
        acc += expFast(k * (UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) - s))
        i += 16
    }
    var sum = acc.sum()
    while i < count { sum += expFast(scale * (p[i] - shift)); i += 1 }
    return sum
}

// MARK: - 16 lanes of the gate functions
//
// The per-step gate loops read and write several buffers through pointers the compiler cannot
// prove distinct, so it leaves them scalar; the LEM layer therefore works on explicit 16-lane
// vectors (one AVX-512 register), with the same formulas and accuracy as the scalar versions.

/// x clamped to [−limit, limit] with compare-and-blend (`clamped(lowerBound:upperBound:)` goes
/// through the scalarised `pointwiseMin`/`pointwiseMax`).
@inline(always)
func clamp(_ x: SIMD16<Float>, _ limit: Float) -> SIMD16<Float> {
    var v = x
    v.replace(with: limit, where: v .> limit)
    v.replace(with: -limit, where: v .< -limit)
    return v
}

/// `tanhFast` on 16 lanes.
@inline(always)
func tanhFast(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let v = clamp(x, 7.90531110763549805)
    let v2 = v * v
    var p = SIMD16<Float>(repeating: -2.76076847742355e-16)
    p = p * v2 + 2.00018790482477e-13
    p = p * v2 + -8.60467152213735e-11
    p = p * v2 + 5.12229709037114e-08
    p = p * v2 + 1.48572235717979e-05
    p = p * v2 + 6.37261928875436e-04
    p = p * v2 + 4.89352455891786e-03
    p = p * v
    var q = SIMD16<Float>(repeating: 1.19825839466702e-06)
    q = q * v2 + 1.18534705686654e-04
    q = q * v2 + 2.26843463243900e-03
    q = q * v2 + 4.89352518554385e-03
    return p / q
}

/// `sigmoidFast` on 16 lanes.
@inline(always)
func sigmoidFast(_ x: SIMD16<Float>) -> SIMD16<Float> { 0.5 + 0.5 * tanhFast(0.5 * x) }

/// 16 floats from `p` (no alignment needed).
@inline(always) func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
@inline(always) func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
@inline(always) func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }

/// `count` (< 16) floats from `p` in the first lanes, zeros after: the tail of a row.
@inline(always) func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD16<Float> {
    var v = SIMD16<Float>(repeating: 0)
    for k in 0..<count { v[k] = p[k] }
    return v
}
@inline(always) func loadPartial(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> SIMD16<Float> { loadPartial(UnsafePointer(p), count) }
@inline(always) func storePartial(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for k in 0..<count { p[k] = v[k] }
}

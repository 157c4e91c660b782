/// The LEM's elementwise gate math, forward and backward, on 16 lanes at a time.
///
/// σ is the logistic function; s̄ and s are the gate sigmoids, Δt̄ = dt·s̄ and Δt = dt·s.
/// Each kernel handles one sequence's row of the gate matrix X[B, 4d], whose columns are
/// [a_ȳ | a_z | a_cz | a_cy] (see `LEMLayer.gates`); the activations overwrite their
/// pre-activations in forward and the pre-activation gradients overwrite the activations in
/// backward.

// MARK: - The math

/// Forward, z part: s̄ = σ(a_ȳ), s = σ(a_z), c_z = tanh(a_cz), z' = (1 − dt·s)·z + dt·s·c_z.
@inline(always)
func zGates(_ aBar: SIMD16<Float>, _ aZ: SIMD16<Float>, _ aCz: SIMD16<Float>, _ z: SIMD16<Float>, dt: Float)
    -> (sBar: SIMD16<Float>, sZ: SIMD16<Float>, cz: SIMD16<Float>, z: SIMD16<Float>) {
    let sBar = sigmoidFast(aBar), sZ = sigmoidFast(aZ), cz = tanhFast(aCz)
    let dtZ = dt * sZ
    return (sBar, sZ, cz, (1 - dtZ) * z + dtZ * cz)
}

/// Forward, y part: c_y = tanh(a_cy), y' = (1 − dt·s̄)·y + dt·s̄·c_y.
@inline(always)
func yState(_ aCy: SIMD16<Float>, _ sBar: SIMD16<Float>, _ y: SIMD16<Float>, dt: Float) -> (cy: SIMD16<Float>, y: SIMD16<Float>) {
    let cy = tanhFast(aCy)
    let dtBar = dt * sBar
    return (cy, (1 - dtBar) * y + dtBar * cy)
}

/// Backward of `yState` for g = ∂L/∂y': ∂L/∂a_ȳ = g·(c_y − y)·dt·s̄(1 − s̄),
/// ∂L/∂a_cy = g·Δt̄·(1 − c_y²), and the direct part of ∂L/∂y = g·(1 − Δt̄).
@inline(always)
func yStateBackward(_ g: SIMD16<Float>, _ sBar: SIMD16<Float>, _ cy: SIMD16<Float>, _ y: SIMD16<Float>, dt: Float)
    -> (dPreBar: SIMD16<Float>, dPreCy: SIMD16<Float>, dy: SIMD16<Float>) {
    let dtBar = dt * sBar
    return (g * (cy - y) * dt * sBar * (1 - sBar), g * dtBar * (1 - cy * cy), g * (1 - dtBar))
}

/// Backward of the z update for g = ∂L/∂z': ∂L/∂a_z = g·(c_z − z)·dt·s(1 − s),
/// ∂L/∂a_cz = g·Δt·(1 − c_z²), and ∂L/∂z = g·(1 − Δt).
@inline(always)
func zGatesBackward(_ g: SIMD16<Float>, _ sZ: SIMD16<Float>, _ cz: SIMD16<Float>, _ z: SIMD16<Float>, dt: Float)
    -> (dPreZ: SIMD16<Float>, dPreCz: SIMD16<Float>, dz: SIMD16<Float>) {
    let dtZ = dt * sZ
    return (g * (cz - z) * dt * sZ * (1 - sZ), g * dtZ * (1 - cz * cz), g * (1 - dtZ))
}

// MARK: - Row kernels

/// One block of lanes [i, i + n) of a row, n ≤ 16.
protocol LaneKernel {
    func callAsFunction(_ i: Int, _ n: Int)
}

/// Runs `kernel` over a row of `d` lanes: blocks of 16, then one shorter tail block.
///
/// Why a protocol and not a closure: the full blocks must see the constant 16 after inlining, so
/// that their loads and stores are single vector moves. Swift does not inline closures here, and a
/// variable `n` makes it scalarise the gate math (measured: 2–6× slower gate passes).
@inline(always) func forEachLaneBlock<Kernel: LaneKernel>(_ d: Int, _ kernel: Kernel) {
    var i = 0
    while i + 16 <= d {
        kernel(i, 16)
        i += 16
    }
    if i < d { kernel(i, d - i) }
}

/// Forward, first half of a step: from the pre-activations in X (inp2hid + hid2hid) and the
/// biases, writes z' and the activations s̄, s, c_z over their pre-activations.
struct ZGatesForward: LaneKernel {
    let row: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
    let zPrev: UnsafeMutablePointer<Float>, zNext: UnsafeMutablePointer<Float>
    let d: Int, dt: Float
    @inline(always) func callAsFunction(_ i: Int, _ n: Int) {
        let (sBar, sZ, cz, z) = zGates(
            lanes(row + i, n) + lanes(bias + i, n),
            lanes(row + d + i, n) + lanes(bias + d + i, n),
            lanes(row + 2 * d + i, n) + lanes(bias + 2 * d + i, n),
            lanes(zPrev + i, n), dt: dt)
        put(z, zNext + i, n)
        put(sBar, row + i, n)
        put(sZ, row + d + i, n)
        put(cz, row + 2 * d + i, n)
    }
}

/// Forward, second half: y' from a_cy (inp2hid + transform_z(z'), plus bias) and s̄; writes y'
/// and c_y.
struct YStateForward: LaneKernel {
    let row: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>
    let yPrev: UnsafeMutablePointer<Float>, yNext: UnsafeMutablePointer<Float>
    let d: Int, dt: Float
    @inline(always) func callAsFunction(_ i: Int, _ n: Int) {
        let (cy, y) = yState(lanes(row + 3 * d + i, n) + lanes(bias + 3 * d + i, n), lanes(row + i, n), lanes(yPrev + i, n), dt: dt)
        put(y, yNext + i, n)
        put(cy, row + 3 * d + i, n)
    }
}

/// Backward of `YStateForward`: ∂a_ȳ and ∂a_cy over s̄ and c_y; ∂L/∂y becomes its direct part.
struct YStateBackward: LaneKernel {
    let row: UnsafeMutablePointer<Float>
    let yPrev: UnsafeMutablePointer<Float>, yGrad: UnsafeMutablePointer<Float>
    let d: Int, dt: Float
    @inline(always) func callAsFunction(_ i: Int, _ n: Int) {
        let (dPreBar, dPreCy, dyPrev) = yStateBackward(lanes(yGrad + i, n), lanes(row + i, n), lanes(row + 3 * d + i, n), lanes(yPrev + i, n), dt: dt)
        put(dPreCy, row + 3 * d + i, n)
        put(dPreBar, row + i, n)
        put(dyPrev, yGrad + i, n)
    }
}

/// Backward of `ZGatesForward`: ∂a_z and ∂a_cz over s and c_z; ∂L/∂z becomes its direct part.
struct ZGatesBackward: LaneKernel {
    let row: UnsafeMutablePointer<Float>
    let zPrev: UnsafeMutablePointer<Float>, zGrad: UnsafeMutablePointer<Float>
    let d: Int, dt: Float
    @inline(always) func callAsFunction(_ i: Int, _ n: Int) {
        let (dPreZ, dPreCz, dzPrev) = zGatesBackward(lanes(zGrad + i, n), lanes(row + d + i, n), lanes(row + 2 * d + i, n), lanes(zPrev + i, n), dt: dt)
        put(dPreZ, row + d + i, n)
        put(dPreCz, row + 2 * d + i, n)
        put(dzPrev, zGrad + i, n)
    }
}

/// 16 floats at `p`, or the first `n` (< 16) and zeros: a full vector or a row's tail.
@inline(always) func lanes(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> SIMD16<Float> {
    n == 16 ? load16(p) : loadPartial(p, n)
}

/// Stores the first `n` lanes of `v` at `p`.
@inline(always) func put(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n == 16 { store16(v, p) } else { storePartial(v, p, n) }
}

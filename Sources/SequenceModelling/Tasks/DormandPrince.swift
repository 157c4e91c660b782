import Foundation

/// Solves y' = f(t, y) with the explicit Runge-Kutta 5(4) pair of Dormand and Prince and reads the
/// solution at given times from its dense output: SciPy's `solve_ivp(method="RK45", t_eval=…)`,
/// step for step (the same coefficients, error norm, initial step, step-size control and
/// quartic interpolant; scipy/integrate/_ivp/rk.py), so that data the authors generated with
/// SciPy is generated the same way here.
///
/// Contract: with tolerances `rtol`, `atol`, each accepted step's local error estimate e satisfies
/// RMS(e / (atol + max(|y|, |y_new|)·rtol)) < 1; between steps the values are the interpolant's,
/// of order 4.
struct DormandPrince45 {
    var rtol = 1e-3, atol = 1e-6

    // Butcher tableau, weights and error weights (SciPy's RK45.C, A, B, E) and the dense-output matrix P.
    static let c: [Double] = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1]
    static let a: [[Double]] = [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
    ]
    static let b: [Double] = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84]
    static let e: [Double] = [-71.0 / 57600, 0, 71.0 / 16695, -71.0 / 1920, 17253.0 / 339200, -22.0 / 525, 1.0 / 40]
    static let p: [[Double]] = [
        [1, -8048581381.0 / 2820520608, 8663915743.0 / 2820520608, -12715105075.0 / 11282082432],
        [0, 0, 0, 0],
        [0, 131558114200.0 / 32700410799, -68118460800.0 / 10900136933, 87487479700.0 / 32700410799],
        [0, -1754552775.0 / 470086768, 14199869525.0 / 1410260304, -10690763975.0 / 1880347072],
        [0, 127303824393.0 / 49829197408, -318862633887.0 / 49829197408, 701980252875.0 / 199316789632],
        [0, -282668133.0 / 205662961, 2019193451.0 / 616988883, -1453857185.0 / 822651844],
        [0, 40617522.0 / 29380423, -110615467.0 / 29380423, 69997945.0 / 29380423],
    ]
    static let safety = 0.9, minFactor = 0.2, maxFactor = 10.0

    /// The solution at each of `times` (increasing, the first one the initial time), one row of
    /// `y0.count` values per time.
    func solve(_ f: ([Double], Double) -> [Double], y0: [Double], times: [Double]) -> [[Double]] {
        precondition(!times.isEmpty && zip(times, times.dropFirst()).allSatisfy { $0 < $1 }, "times must increase")
        let n = y0.count
        func rms(_ v: [Double]) -> Double { (v.reduce(0) { $0 + $1 * $1 } / Double(n)).squareRoot() }
        var t = times[0], y = y0, fy = f(y, t)
        let tEnd = times[times.count - 1]
        var hAbs = initialStep(f, t: t, y: y, fy: fy)
        var out: [[Double]] = []
        out.reserveCapacity(times.count)
        var next = 0
        var k = [[Double]](repeating: [Double](repeating: 0, count: n), count: 7)
        while next < times.count {
            if t >= tEnd { // only the initial time asked for, or round-off at the end
                while next < times.count { out.append(y); next += 1 }
                break
            }
            // One accepted step (SciPy's RungeKutta._step_impl).
            let minStep = 10 * abs(t.nextUp - t)
            var accepted = false, rejected = false
            var h = 0.0, yNew = y, fNew = fy
            while !accepted {
                precondition(hAbs >= minStep, "RK45: the step size fell below its minimum (stiff or singular system)")
                let tNew = min(t + hAbs, tEnd)
                h = tNew - t
                hAbs = abs(h)
                k[0] = fy
                for s in 1..<6 {
                    var ys = y
                    for i in 0..<n {
                        var dy = 0.0
                        for j in 0..<s { dy += k[j][i] * Self.a[s][j] }
                        ys[i] += dy * h
                    }
                    k[s] = f(ys, t + Self.c[s] * h)
                }
                for i in 0..<n {
                    var sum = 0.0
                    for j in 0..<6 { sum += k[j][i] * Self.b[j] }
                    yNew[i] = y[i] + h * sum
                }
                fNew = f(yNew, t + h)
                k[6] = fNew
                var scaled = [Double](repeating: 0, count: n)
                for i in 0..<n {
                    var err = 0.0
                    for j in 0..<7 { err += k[j][i] * Self.e[j] }
                    scaled[i] = err * h / (atol + max(abs(y[i]), abs(yNew[i])) * rtol)
                }
                let errorNorm = rms(scaled)
                if errorNorm < 1 {
                    var factor = errorNorm == 0 ? Self.maxFactor : min(Self.maxFactor, Self.safety * pow(errorNorm, -0.2))
                    if rejected { factor = min(1, factor) }
                    hAbs *= factor
                    accepted = true
                } else {
                    hAbs *= max(Self.minFactor, Self.safety * pow(errorNorm, -0.2))
                    rejected = true
                }
            }
            // Dense output over [t, t + h]: y(t + x·h) = y + h · Q · [x, x², x³, x⁴], Q = Kᵀ P.
            let tNew = t + h
            while next < times.count && times[next] <= tNew {
                let x = (times[next] - t) / h
                let powers = [x, x * x, x * x * x, x * x * x * x]
                var value = y
                for i in 0..<n {
                    var sum = 0.0
                    for j in 0..<7 {
                        var q = 0.0
                        for r in 0..<4 { q += Self.p[j][r] * powers[r] }
                        sum += k[j][i] * q
                    }
                    value[i] += h * sum
                }
                out.append(value)
                next += 1
            }
            (t, y, fy) = (tNew, yNew, fNew)
        }
        return out
    }

    /// SciPy's `select_initial_step` for a method of error-estimator order 4.
    private func initialStep(_ f: ([Double], Double) -> [Double], t: Double, y: [Double], fy: [Double]) -> Double {
        let n = Double(y.count)
        let scale = y.map { atol + abs($0) * rtol }
        func rms(_ v: [Double]) -> Double { (zip(v, scale).reduce(0) { $0 + ($1.0 / $1.1) * ($1.0 / $1.1) } / n).squareRoot() }
        let d0 = rms(y), d1 = rms(fy)
        let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1
        let y1 = zip(y, fy).map { $0 + h0 * $1 }
        let f1 = f(y1, t + h0)
        let d2 = rms(zip(f1, fy).map { $0 - $1 }) / h0
        let h1 = d1 <= 1e-15 && d2 <= 1e-15 ? max(1e-6, h0 * 1e-3) : pow(0.01 / max(d1, d2), 1.0 / 5)
        return min(100 * h0, h1)
    }
}

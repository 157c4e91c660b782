import Foundation

/// The paper's FitzHugh-Nagumo data, as the authors' `src/FitzHughNagumo/data.py` makes it:
///
///     v' = v − v³/3 − w + I,   w' = ε (v + a − b w),   I = 0.5, a = 0.7, b = 0.8, ε = 1/50,
///
/// from v₀ = 2·U(0, 1) − 1 (one `np.random.rand(1)` per trajectory, NumPy seeded with 1234 and
/// drawn in the order train, valid, test), w₀ = 0, solved by SciPy's RK45 (rtol 1e-3, atol 1e-6) and
/// read at t = linspace(0, 400, 1001). Each sequence's input is v(t₀ … t₉₉₉) and its target at
/// every step the next value, v(t₁ … t₁₀₀₀) (`[N, 1000, 1]` each).
package struct FitzHughNagumo {
    package var current = 0.5, a = 0.7, b = 0.8, epsilon = 1.0 / 50
    package var duration = 400.0
    /// Points on [0, duration]: the sequences have `points − 1` steps.
    package var points = 1001

    package init() {}

    /// The right-hand side at (v, w).
    func derivative(_ y: [Double]) -> [Double] {
        let (v, w) = (y[0], y[1])
        return [v - v * v * v / 3 - w + current, epsilon * (v + a - b * w)]
    }

    /// The trajectory of v from v₀ (w₀ = 0) at the `points` sample times.
    package func trajectory(v0: Double) -> [Double] {
        let times = (0..<points).map { duration * Double($0) / Double(points - 1) }
        return DormandPrince45().solve({ y, _ in derivative(y) }, y0: [v0, 0], times: times).map { $0[0] }
    }

    /// Sequences from the given initial values: input v[0 ..< T], target v[1 ... T] at every step.
    package func sequences(initialValues: [Double]) -> SequenceDataset {
        let steps = points - 1
        var x: [Float] = [], y: [Float] = []
        x.reserveCapacity(initialValues.count * steps)
        y.reserveCapacity(initialValues.count * steps)
        for v0 in initialValues {
            let v = trajectory(v0: v0).map(Float.init)
            x += v[0..<steps]
            y += v[1...steps]
        }
        return SequenceDataset(count: initialValues.count, steps: steps, features: 1, values: x, labels: .stepTargets(y, width: 1))
    }

    /// The authors' three sets: 128 training, 128 validation and 1,024 test sequences whose v₀ are
    /// drawn in that order from NumPy's generator seeded with `seed` (theirs: 1234).
    package func authorsSplits(seed: UInt32 = 1234, sizes: (train: Int, valid: Int, test: Int) = (128, 128, 1024))
        -> (train: SequenceDataset, valid: SequenceDataset, test: SequenceDataset) {
        var rng = NumPyRandomState(seed: seed)
        let v0 = (0..<(sizes.train + sizes.valid + sizes.test)).map { _ in rng.randomSample() * 2 - 1 }
        let (a, b) = (sizes.train, sizes.train + sizes.valid)
        return (sequences(initialValues: Array(v0[0..<a])), sequences(initialValues: Array(v0[a..<b])),
                sequences(initialValues: Array(v0[b...])))
    }
}

extension SequenceDataset {
    /// The set as NumPy arrays `x` `[N, T, F]` and `y` (`[N]` classes, `[N, K]` or `[N, T, K]` targets).
    public func numPyArrays() -> [(name: String, array: NumPyArray)] {
        precondition(suffix.isEmpty, "a set with shared steps is written out by its task, not as arrays")
        let y: NumPyArray
        switch labels {
        case let .classes(c, _): y = NumPyArray(shape: [count], values: c.map(Float.init))
        case let .targets(t, width): y = NumPyArray(shape: [count, width], values: t)
        case let .stepTargets(t, width): y = NumPyArray(shape: [count, steps, width], values: t)
        }
        return [("x", NumPyArray(shape: [count, steps, features], values: values)), ("y", y)]
    }
}

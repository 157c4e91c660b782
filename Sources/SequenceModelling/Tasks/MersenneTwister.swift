import Foundation

/// MT19937, the 32-bit Mersenne Twister of Matsumoto and Nishimura (2002 seeding, `init_genrand`):
/// the generator behind both PyTorch's CPU default generator and NumPy's legacy `RandomState`.
///
/// We use it only to rebuild the authors' data exactly — their psMNIST permutation, their
/// validation and test splits, noisy CIFAR's noise tensor and FitzHugh-Nagumo's initial values —
/// never for training (that uses `RandomGenerator`).
struct MersenneTwister {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt32) {
        state[0] = seed
        for i in 1..<624 { state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i) }
    }

    /// The next 32-bit output.
    mutating func next() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7fff_ffff)
                state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// Skips `count` outputs.
    mutating func discard(_ count: Int) { for _ in 0..<count { _ = next() } }
}

/// The calls of PyTorch's CPU generator (`torch.manual_seed(s)`) that the authors' scripts make,
/// reproduced on MT19937 (aten/src/ATen/native/cpu: randperm, uniform_ and normal_ for float).
struct TorchGenerator {
    var engine: MersenneTwister

    init(seed: UInt32) { engine = MersenneTwister(seed: seed) }

    /// `torch.randperm(n)`: for i in 0 ..< n − 1, swap r[i] with r[i + (random() mod (n − i))].
    mutating func randperm(_ n: Int) -> [Int] {
        var r = Array(0..<n)
        guard n > 1 else { return r }
        for i in 0..<(n - 1) {
            let z = Int(engine.next() % UInt32(n - i))
            r.swapAt(i, i + z)
        }
        return r
    }

    /// `torch.randn(count)` for float tensors of at least 16 elements: one 24-bit uniform per
    /// element, then Box-Muller on each chunk of 16 (the first 8 give the radii with 1 − u, the
    /// last 8 the angles; cosines fill the first half, sines the second). A tail that is not a
    /// whole chunk is recomputed from the last 16 uniforms, as PyTorch does.
    mutating func randn(_ count: Int) -> [Float] {
        precondition(count >= 16, "PyTorch draws tensors of fewer than 16 normals differently")
        let u = (0..<count).map { _ in Float(engine.next() & 0xFF_FFFF) * 0x1p-24 }
        var out = [Float](repeating: 0, count: count)
        func chunk(_ start: Int) {
            for j in 0..<8 {
                let radius = (-2 * log(Double(1 - u[start + j]))).squareRoot()
                let angle = 2 * Double.pi * Double(u[start + 8 + j])
                out[start + j] = Float(radius * cos(angle))
                out[start + 8 + j] = Float(radius * sin(angle))
            }
        }
        var start = 0
        while start + 16 <= count { chunk(start); start += 16 }
        if start < count {
            // PyTorch redraws the last 16 uniforms for a ragged tail; no task here has one.
            preconditionFailure("randn of \(count) values: only multiples of 16 are reproduced")
        }
        return out
    }
}

/// NumPy's legacy `RandomState(seed)` (= `np.random.seed(seed)`): `random_sample` and
/// `permutation`, as scikit-learn's `train_test_split(random_state=…)` and the authors'
/// FitzHugh-Nagumo generator use them.
struct NumPyRandomState {
    var engine: MersenneTwister

    init(seed: UInt32) { engine = MersenneTwister(seed: seed) }

    /// `random_sample()`: a double in [0, 1) from 53 random bits (two outputs, 27 + 26 bits).
    mutating func randomSample() -> Double {
        let a = Double(engine.next() >> 5), b = Double(engine.next() >> 6)
        return (a * 67_108_864 + b) / 9_007_199_254_740_992
    }

    /// A uniform integer in 0...max by masked rejection (NumPy's legacy `rk_interval`).
    mutating func interval(_ max: UInt32) -> UInt32 {
        guard max > 0 else { return 0 }
        var mask = max
        for shift in [1, 2, 4, 8, 16] as [UInt32] { mask |= mask >> shift }
        while true {
            let value = engine.next() & mask
            if value <= max { return value }
        }
    }

    /// `permutation(n)`: the legacy Fisher-Yates shuffle of 0 ..< n, from the last element down.
    mutating func permutation(_ n: Int) -> [Int] {
        var r = Array(0..<n)
        guard n > 1 else { return r }
        for i in stride(from: n - 1, through: 1, by: -1) {
            let j = Int(interval(UInt32(i)))
            r.swapAt(i, j)
        }
        return r
    }
}

/// scikit-learn's `train_test_split(indices, test_size: fraction, random_state: seed)` on `n`
/// items (its `ShuffleSplit`): n_test = ⌈fraction·n⌉, n_train = n − n_test; the permutation's first
/// n_test items are the test part, the next n_train the training part, both in permutation order.
func scikitTrainTestSplit(_ n: Int, testFraction: Double, seed: UInt32) -> (train: [Int], test: [Int]) {
    let nTest = Int((testFraction * Double(n)).rounded(.up))
    var rng = NumPyRandomState(seed: seed)
    let p = rng.permutation(n)
    return (Array(p[nTest ..< n]), Array(p[0..<nTest]))
}

/// The project's own seedable random generator: xoshiro256** seeded through SplitMix64.
///
/// Used for parameter initialisation, dropout masks and shuffling, so that the same seed (and
/// thread count) gives the same numbers on every machine and every Swift version; the standard
/// library's generators and `shuffle(using:)` make no such promise. The whole state is four
/// `UInt64`s, saved in checkpoints for exact resume.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four state words from `seed` with SplitMix64 (never all zero).
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// A generator for an independent stream derived from `seed` and `stream` (e.g. one per epoch
    /// for shuffling, so that a resumed run reproduces the order without replaying draws).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    /// Restores a saved state; `nil` when all words are zero (not a valid xoshiro state).
    public init?(state words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        state = (words[0], words[1], words[2], words[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: Self, b: Self) -> Bool { a.stateWords == b.stateWords }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits (every Float in the grid k/2^24 equally likely).
    @inline(__always)
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [lower, upper).
    @inline(__always)
    public mutating func uniform(_ lower: Float, _ upper: Float) -> Float {
        lower + (upper - lower) * uniformFloat()
    }

    /// Uniform integer in 0..<bound without modulo bias (Lemire's method).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "below(_:) needs a positive bound")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// Standard normal sample (Box–Muller; one value per call, kept simple and reproducible).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, 0x1p-60)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// Fisher–Yates shuffle with this generator (a fixed algorithm, unlike `shuffle(using:)`).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// Fills `buffer` with uniform values in [lower, upper).
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, _ lower: Float, _ upper: Float) {
        for i in buffer.indices { buffer[i] = uniform(lower, upper) }
    }
}

/// One generator per sequence of a batch, for dropout masks: stream `b` of the *global* batch
/// draws from `RandomGenerator(seed: seed, stream: b)` whichever replica, thread or MPI rank
/// holds it, so the masks (and so the arithmetic) do not depend on how the batch is split.
public struct StreamGenerators: Sendable {
    public private(set) var generators: [RandomGenerator]

    /// Generators for the global streams `first ..< first + count`.
    public init(seed: UInt64, first: Int, count: Int) {
        generators = (first ..< first + count).map { RandomGenerator(seed: seed, stream: UInt64($0)) }
    }

    public var count: Int { generators.count }

    /// Runs `body` with the generators as a mutable buffer (stream j of this batch at index j).
    public mutating func withGenerators<R>(_ body: (UnsafeMutableBufferPointer<RandomGenerator>) -> R) -> R {
        generators.withUnsafeMutableBufferPointer { body($0) }
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

/// Inverted dropout: in training each kept unit is scaled by 1/(1−p), so evaluation needs no
/// rescaling and simply skips the layer.
///
/// Two kinds:
/// - `.plain`: an independent mask for every element.
/// - `.locked`: one mask per sequence and unit, shared by every time step (Gal & Ghahramani's
///   variational dropout; "locked dropout" in AWD-LSTM), for inputs, outputs and the recurrent state.
///
/// Forward and backward work in place: y = x ⊙ mask, ∂x = ∂y ⊙ mask.
public final class Dropout: @unchecked Sendable {
    public enum Kind: String, Codable, Sendable { case plain, locked }
    public let kind: Kind
    public let probability: Float
    private var maskBuffer: FloatBuffer?
    private var maskCount = 0

    public init(_ kind: Kind, probability: Float) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.kind = kind
        self.probability = probability
    }

    public var isActive: Bool { probability > 0 }

    /// The current mask: `[T, B, n]` for plain, `[B, n]` for locked.
    public var mask: UnsafePointer<Float>? { maskCount > 0 ? UnsafePointer(maskBuffer!.pointer) : nil }

    /// Draws a fresh mask for data `[steps, batch, width]` (locked: `[batch, width]`); the mask
    /// values of sequence b come from `streams` generator b, in order of time then unit.
    public func sampleMask(steps: Int, batch: Int, width: Int, streams: inout StreamGenerators) {
        precondition(streams.count == batch, "one generator per sequence")
        let rows = kind == .locked ? 1 : steps
        let n = rows * batch * width
        let m = ensure(&maskBuffer, n)
        maskCount = n
        let (p, keep) = (probability, 1 / (1 - probability))
        streams.withGenerators { g in
            for t in 0..<rows {
                for b in 0..<batch {
                    let row = m + (t * batch + b) * width
                    for j in 0..<width { row[j] = g[b].uniformFloat() < p ? 0 : keep }
                }
            }
        }
    }

    /// destination = source ⊙ a fresh plain mask `[steps, batch, width]`, in one pass and without
    /// keeping the mask: for an input that needs no gradient. Same draws and values as
    /// `sampleMask` then `apply`.
    public func applyFreshMask(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                               steps: Int, batch: Int, width: Int, streams: inout StreamGenerators) {
        precondition(kind == .plain, "a fresh mask without storage is for plain dropout")
        precondition(streams.count == batch, "one generator per sequence")
        let (p, keep) = (probability, 1 / (1 - probability))
        streams.withGenerators { g in
            for t in 0..<steps {
                for b in 0..<batch {
                    let o = (t * batch + b) * width
                    for j in 0..<width { destination[o + j] = source[o + j] * (g[b].uniformFloat() < p ? 0 : keep) }
                }
            }
        }
        maskCount = 0
    }

    /// data[t, b, j] *= mask (the last sampled mask, which must match the shape).
    public func apply(_ data: UnsafeMutablePointer<Float>, steps: Int, batch: Int, width: Int) {
        let m = maskBuffer!.pointer
        let per = batch * width
        switch kind {
        case .plain:
            precondition(maskCount == steps * per, "dropout mask shape differs from the data")
            for j in 0..<(steps * per) { data[j] *= m[j] }
        case .locked:
            precondition(maskCount == per, "dropout mask shape differs from the data")
            for t in 0..<steps {
                let row = data + t * per
                for j in 0..<per { row[j] *= m[j] }
            }
        }
    }
}

/// Fills `mask` with 0 (probability p) or 1/(1−p).
public func fillDropoutMask(_ mask: UnsafeMutablePointer<Float>, count: Int, probability p: Float, rng: inout RandomGenerator) {
    let keep = 1 / (1 - p)
    for j in 0..<count { mask[j] = rng.uniformFloat() < p ? 0 : keep }
}

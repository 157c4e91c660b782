// Per-feature standardisation with statistics from the training set (stored in checkpoints).

/// Per-feature mean and standard deviation over every frame of the training set, applied as
/// `(x − mean) / max(std, 1e-5)`. Statistics are accumulated in Double (two passes: mean, then
/// squared deviations), and the std is the population one (divide by the number of frames).
public struct FeatureNormalizer: Codable, Sendable, Equatable {
    /// Smallest std divided by (a feature that is constant in training is only centred).
    public static let minimumStd: Float = 1e-5

    /// Per-feature mean.
    public var mean: [Float]
    /// Per-feature standard deviation (population).
    public var std: [Float]
    /// Number of frames the statistics were computed from.
    public var frameCount: Int

    /// Values per frame.
    public var featureCount: Int { mean.count }

    public init(mean: [Float], std: [Float], frameCount: Int) {
        precondition(mean.count == std.count, "FeatureNormalizer: mean and std differ in length")
        self.mean = mean
        self.std = std
        self.frameCount = frameCount
    }

    private enum CodingKeys: String, CodingKey { case mean, std, frameCount }

    /// Decodes and checks the statistics (a checkpoint may be damaged or hand-edited): equal
    /// lengths, at least one feature, finite values, std ≥ 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let mean = try c.decode([Float].self, forKey: .mean), std = try c.decode([Float].self, forKey: .std)
        guard !mean.isEmpty, mean.count == std.count else {
            throw DecodingError.dataCorruptedError(forKey: .std, in: c, debugDescription: "normaliser: \(mean.count) means but \(std.count) stds")
        }
        guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .std, in: c, debugDescription: "normaliser: non-finite mean or negative/non-finite std")
        }
        self.init(mean: mean, std: std, frameCount: try c.decode(Int.self, forKey: .frameCount))
    }

    /// Throws unless this normaliser is for `featureCount` values per frame (e.g. a checkpoint's
    /// normaliser against its feature settings).
    public func check(featureCount expected: Int) throws {
        guard featureCount == expected else {
            throw FeatureSettingsError(message: "the normaliser has \(featureCount) features but the settings produce \(expected)")
        }
    }

    /// The identity (mean 0, std 1).
    public static func identity(featureCount: Int) -> FeatureNormalizer {
        FeatureNormalizer(mean: .init(repeating: 0, count: featureCount), std: .init(repeating: 1, count: featureCount), frameCount: 0)
    }

    /// Statistics of `values`, a row-major `[frames, featureCount]` matrix (e.g. a whole split's
    /// features `[clips, frames, featureCount]`, which is the same thing).
    public init(fitting values: UnsafeBufferPointer<Float>, featureCount: Int) {
        precondition(featureCount > 0 && values.count % featureCount == 0,
                     "FeatureNormalizer: \(values.count) values are not whole frames of \(featureCount)")
        let frames = values.count / featureCount
        var sums = [Double](repeating: 0, count: featureCount)
        for f in 0..<frames {
            for j in 0..<featureCount { sums[j] += Double(values[f * featureCount + j]) }
        }
        let means = sums.map { frames > 0 ? $0 / Double(frames) : 0 }
        var squares = [Double](repeating: 0, count: featureCount)
        for f in 0..<frames {
            for j in 0..<featureCount {
                let d = Double(values[f * featureCount + j]) - means[j]
                squares[j] += d * d
            }
        }
        self.init(mean: means.map { Float($0) },
                  std: squares.map { frames > 0 ? Float(($0 / Double(frames)).squareRoot()) : 1 },
                  frameCount: frames)
    }

    /// Statistics of a row-major `[frames, featureCount]` array.
    public init(fitting values: [Float], featureCount: Int) {
        self = values.withUnsafeBufferPointer { FeatureNormalizer(fitting: $0, featureCount: featureCount) }
    }

    /// Normalises a row-major `[frames, featureCount]` buffer in place.
    public func apply(_ values: UnsafeMutableBufferPointer<Float>) {
        let n = featureCount
        precondition(n > 0 && values.count % n == 0, "FeatureNormalizer: \(values.count) values are not whole frames of \(n)")
        let scale = std.map { 1 / max($0, Self.minimumStd) }
        mean.withUnsafeBufferPointer { m in
            scale.withUnsafeBufferPointer { s in
                for f in 0..<(values.count / n) {
                    let row = values.baseAddress! + f * n
                    for j in 0..<n { row[j] = (row[j] - m[j]) * s[j] }
                }
            }
        }
    }

    /// Normalises a row-major `[frames, featureCount]` array in place.
    public func apply(_ values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { apply($0) }
    }
}

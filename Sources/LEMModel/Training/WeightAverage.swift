/// lamb's weight averaging (a generalised ASGD): once triggered, the arithmetic mean of the
/// parameters after every optimizer step,
///
///     w̄ₙ = (1/n) Σ_{k=1…n} w_k     (summed in Double, so w̄ is the average up to one rounding),
///
/// is what validation evaluates and what the best checkpoint keeps, while training goes on from
/// the raw weights. It never restarts once on (lamb's `Averaged`, `averaged.py`).
public final class WeightAverage: @unchecked Sendable {
    /// Iterates summed so far.
    public private(set) var count = 0
    private var sums: [Double]

    public init(parameterCount: Int) {
        sums = [Double](repeating: 0, count: parameterCount)
    }

    /// Restores a saved running sum (a resumable checkpoint's `average.sum`).
    public init(sums: [Double], count: Int) {
        self.sums = sums
        self.count = count
    }

    public var runningSums: [Double] { sums }

    /// Adds the current parameters as one more iterate.
    public func add(_ parameters: ParameterBlock) {
        precondition(parameters.count == sums.count, "the average does not match the parameters")
        let w = parameters.values
        sums.withUnsafeMutableBufferPointer { s in
            for i in 0..<s.count { s[i] += Double(w[i]) }
        }
        count += 1
    }

    /// The average, as parameter values.
    public func averaged() -> [Float] {
        let n = Double(max(count, 1))
        return sums.map { Float($0 / n) }
    }

    /// Runs `body` with the averaged weights in `parameters`, then puts the raw weights back.
    public func withAveragedParameters<Result>(_ parameters: ParameterBlock, _ body: () throws -> Result) rethrows -> Result {
        let raw = Array(UnsafeBufferPointer(start: parameters.values, count: parameters.count))
        averaged().withUnsafeBufferPointer { parameters.values.update(from: $0.baseAddress!, count: parameters.count) }
        defer { raw.withUnsafeBufferPointer { parameters.values.update(from: $0.baseAddress!, count: parameters.count) } }
        return try body()
    }
}

/// When weight averaging starts (lamb's `trigger_averaging_turns` and
/// `trigger_averaging_at_the_latest`, with an epoch's validation in place of lamb's turn of 200
/// steps): after the validation of an epoch at least `epochsWithoutImprovement` epochs past the
/// best one, or of epoch `latestEpoch` at the latest.
public struct WeightAveragingTrigger: Codable, Sendable, Equatable {
    public var epochsWithoutImprovement: Int
    public var latestEpoch: Int?

    public init(epochsWithoutImprovement: Int, latestEpoch: Int? = nil) {
        self.epochsWithoutImprovement = epochsWithoutImprovement
        self.latestEpoch = latestEpoch
    }

    func fires(epoch: Int, bestEpoch: Int?) -> Bool {
        epoch - (bestEpoch ?? 0) >= epochsWithoutImprovement || latestEpoch.map { epoch >= $0 } == true
    }
}

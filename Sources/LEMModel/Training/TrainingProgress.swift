/// Everything besides parameters and optimiser moments that an exact resume needs.
public struct TrainingProgress: Codable, Sendable, Equatable {
    /// Epochs fully completed (the next batch belongs to epoch `completedEpochs + 1`).
    public var completedEpochs: Int
    /// Batches of the current epoch already trained.
    public var batchInEpoch: Int
    /// Optimiser updates so far (Adam's t).
    public var optimizerSteps: Int
    public var optimizer: OptimizerSettings
    public var scheduler: LearningRateScheduler
    /// The seed of the run (shuffling is derived from seed and epoch).
    public var seed: UInt64
    /// State of the dropout generator, as decimal strings (JSON numbers lose 64-bit precision).
    public var rngState: [String]
    /// Best validation metric so far and the epoch it was reached.
    public var bestMetric: Double?
    public var bestEpoch: Int?
    /// Training time spent before this checkpoint, for throughput and --max-minutes accounting.
    public var elapsedSeconds: Double
    /// The run's settings (clip, epochs, …) so `--resume` continues with the same ones.
    public var clip: Float?
    public var epochs: Int
    /// Weight averaging: when it starts, and the iterates averaged so far (nil: not started; the
    /// running sum is the checkpoint's `average.sum` tensor).
    public var averaging: WeightAveragingTrigger?
    public var averagedSteps: Int?

    public init(completedEpochs: Int, batchInEpoch: Int, optimizerSteps: Int, optimizer: OptimizerSettings,
                scheduler: LearningRateScheduler, seed: UInt64, rng: RandomGenerator, bestMetric: Double?, bestEpoch: Int?,
                elapsedSeconds: Double, clip: Float?, epochs: Int) {
        self.completedEpochs = completedEpochs
        self.batchInEpoch = batchInEpoch
        self.optimizerSteps = optimizerSteps
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.seed = seed
        rngState = rng.stateWords.map { String($0) }
        self.bestMetric = bestMetric
        self.bestEpoch = bestEpoch
        self.elapsedSeconds = elapsedSeconds
        self.clip = clip
        self.epochs = epochs
    }

    /// The saved dropout generator, or nil if the saved state is invalid.
    public var rng: RandomGenerator? {
        let words = rngState.compactMap { UInt64($0) }
        return words.count == 4 ? RandomGenerator(state: words) : nil
    }
}

/// How the learning rate changes between epochs.
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    /// Never changes.
    case constant
    /// Multiplies the rate by `factor` at the end of each epoch listed in `milestones` (1-based):
    /// the paper's Google12 schedule is `.stepDecay(milestones: [50], factor: 0.1)`.
    case stepDecay(milestones: [Int], factor: Float)
    /// Multiplies the rate by `factor` when the validation metric (lower is better) has not improved
    /// by more than `threshold` (relative) for `patience` consecutive epochs; never below `minimum`.
    /// `patience: 0` decays after every epoch without improvement, as pytorch/examples does (÷4).
    case plateau(factor: Float, patience: Int, threshold: Double, minimum: Float)
}

/// A schedule and its running state (best validation value, epochs without improvement), all
/// `Codable` so it is saved in checkpoints and a resumed run continues the same schedule.
public struct LearningRateScheduler: Codable, Sendable, Equatable {
    public let schedule: LearningRateSchedule
    public private(set) var learningRate: Float
    public private(set) var bestMetric: Double?
    public private(set) var epochsWithoutImprovement = 0

    public init(schedule: LearningRateSchedule, initialRate: Float) {
        self.schedule = schedule
        learningRate = initialRate
    }

    /// Call once at the end of epoch `epoch` (1-based) with its validation metric (lower is
    /// better; pass −accuracy for accuracy). Returns true if the rate changed.
    @discardableResult
    public mutating func epochEnded(_ epoch: Int, validationMetric metric: Double) -> Bool {
        let improved: Bool
        if let best = bestMetric { improved = metric < best - abs(best) * thresholdValue } else { improved = true }
        if improved { bestMetric = metric; epochsWithoutImprovement = 0 } else { epochsWithoutImprovement += 1 }
        let old = learningRate
        switch schedule {
        case .constant:
            break
        case .stepDecay(let milestones, let factor):
            if milestones.contains(epoch) { learningRate *= factor }
        case .plateau(let factor, let patience, _, let minimum):
            if !improved && epochsWithoutImprovement > patience {
                learningRate = max(minimum, learningRate * factor)
                epochsWithoutImprovement = 0
            }
        }
        return learningRate != old
    }

    private var thresholdValue: Double {
        if case .plateau(_, _, let threshold, _) = schedule { return threshold }
        return 0
    }
}

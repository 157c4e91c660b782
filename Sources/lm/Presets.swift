import ArgumentParser
import LEMModel
import Text

extension TextLevel: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}

/// Named sets of hyperparameters. Explicit flags override them.
enum Preset: String, CaseIterable, ExpressibleByArgument {
    /// The authors' PTB word configuration (LEM.md; lamb config LEM_config_word).
    case ptbWord = "ptb-word"
    /// The authors' PTB char configuration (LEM.md; lamb config LEM_config_char).
    case ptbChar = "ptb-char"
}

/// Every training hyperparameter of `lm train`, resolved from level defaults, a preset and flags.
struct Hyperparameters: Codable, Equatable {
    var embedding: Int
    var hidden: Int
    var tied: Bool
    var batch: Int
    var bptt: Int
    var optimizer: OptimizerKind = .adam
    var learningRate: Float
    var clip: Float?
    var inputDropout: Float
    var outputDropout: Float
    var stateDropout: Float
    var weightDecay: Float
    var dt: Float = 1
    var epochs: Int
    /// Plateau decay factor (1 = off) and patience; or decay at fixed epochs when `decayAt` is set.
    var lrDecay: Float = 0.25
    var patience: Int = 0
    var decayAt: [Int] = []
    var evalStreams: Int = 1

    /// Defaults without a preset: small, quick models that do something real in minutes. The word
    /// defaults are the configuration of the benchmark in issue 3 (emb 256/hidden 256 tied,
    /// batch 20, BPTT 70, Adam 2e-3, clip 1.0, dropout 0.4, 8 epochs).
    static func defaults(for level: TextLevel) -> Hyperparameters {
        switch level {
        case .word:
            return Hyperparameters(embedding: 256, hidden: 256, tied: true, batch: 20, bptt: 70, learningRate: 2e-3, clip: 1.0,
                                   inputDropout: 0.4, outputDropout: 0.4, stateDropout: 0, weightDecay: 0, epochs: 8)
        case .char, .text:
            return Hyperparameters(embedding: 128, hidden: 512, tied: false, batch: 32, bptt: 100, learningRate: 2e-3, clip: 1.0,
                                   inputDropout: 0.05, outputDropout: 0.1, stateDropout: 0, weightDecay: 0, epochs: 6)
        }
    }

    /// The paper's settings (LEM.md, "Reference hyperparameters"). The paper trained for about
    /// 200k steps in lamb; the epoch counts here are a practical budget, change them with --epochs.
    static func preset(_ preset: Preset) -> Hyperparameters {
        switch preset {
        case .ptbWord:
            return Hyperparameters(embedding: 256, hidden: 256, tied: true, batch: 64, bptt: 70, learningRate: 6.84e-4, clip: 4.0,
                                   inputDropout: 0.42, outputDropout: 0.46, stateDropout: 0.20, weightDecay: 3.3e-4, epochs: 100)
        case .ptbChar:
            return Hyperparameters(embedding: 200, hidden: 1024, tied: false, batch: 128, bptt: 150, learningRate: 6.58e-4, clip: 1.0,
                                   inputDropout: 0.05, outputDropout: 0.19, stateDropout: 0.19, weightDecay: 2.6e-4, epochs: 50)
        }
    }

    var schedule: LearningRateSchedule {
        if !decayAt.isEmpty { return .stepDecay(milestones: decayAt, factor: lrDecay) }
        if lrDecay >= 1 { return .constant }
        return .plateau(factor: lrDecay, patience: patience, threshold: 0, minimum: 0)
    }
}

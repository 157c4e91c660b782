import ArgumentParser
import LEMModel
import Text

extension TextLevel: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension Dropout.Kind: ExpressibleByArgument {}

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
    /// `weightDecay` as lamb's L2 term in the loss (before clipping) instead of PyTorch's weight decay.
    var l2InLoss = false
    /// Input and output dropout masks: locked (one per window) or plain (per element and step, lamb's).
    var masks: Dropout.Kind = .locked
    /// Evaluate at the softmax temperature lamb's search picks on validation.
    var temperatureSearch = false
    /// lamb's weight averaging.
    var averaging: WeightAveragingTrigger?

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

    /// The authors' lamb configurations (`tk-rusch/LEM`, `PTB/LEM_configs/LEM_config_word` and
    /// `_char`, read in docs/REPRODUCTION.md), translated to a per-token mean loss:
    ///
    /// - lamb sums the loss over the window's T steps (and averages over the batch), so its L2
    ///   penalty λ·½Σw² and its clip norm act on a loss T times ours: here λ/T and clip/T
    ///   (word: 3.3147e-4/70 and 4.0/70; char: 2.6325e-4/150 and 1.0/150), with the L2 term in the
    ///   loss as lamb has it (its gradient joins before clipping and passes through Adam);
    /// - a constant learning rate (lamb never drops it in these configurations);
    /// - input and output dropout drawn per element and step, state dropout one mask per window;
    /// - weight averaging after lamb's 50 (word) / 25 (char) turns of 200 steps without a better
    ///   validation, or at turn 800 / 400 at the latest, converted to epochs of full PTB (207
    ///   windows of words, 261 of characters): 48 / 19 epochs, epoch 773 / 306; the softmax
    ///   temperature searched at every evaluation;
    /// - lamb's 1,000 turns of 200 steps (200k steps): 966 epochs of words, 766 of characters.
    ///   Change with --epochs or --max-minutes.
    static func preset(_ preset: Preset) -> Hyperparameters {
        switch preset {
        case .ptbWord:
            var h = Hyperparameters(embedding: 256, hidden: 256, tied: true, batch: 64, bptt: 70, learningRate: 6.843583e-4, clip: 4.0 / 70,
                                    inputDropout: 0.42476248, outputDropout: 0.45676568, stateDropout: 0.19633964,
                                    weightDecay: 3.3147315e-4 / 70, epochs: 966)
            (h.lrDecay, h.l2InLoss, h.masks, h.temperatureSearch) = (1, true, .plain, true)
            h.averaging = WeightAveragingTrigger(epochsWithoutImprovement: 48, latestEpoch: 773)
            return h
        case .ptbChar:
            var h = Hyperparameters(embedding: 200, hidden: 1024, tied: false, batch: 128, bptt: 150, learningRate: 6.582658e-4, clip: 1.0 / 150,
                                    inputDropout: 0.047444744, outputDropout: 0.19081908, stateDropout: 0.18549855,
                                    weightDecay: 2.6324632e-4 / 150, epochs: 766)
            (h.lrDecay, h.l2InLoss, h.masks, h.temperatureSearch) = (1, true, .plain, true)
            h.averaging = WeightAveragingTrigger(epochsWithoutImprovement: 19, latestEpoch: 306)
            return h
        }
    }

    var schedule: LearningRateSchedule {
        if !decayAt.isEmpty { return .stepDecay(milestones: decayAt, factor: lrDecay) }
        if lrDecay >= 1 { return .constant }
        return .plateau(factor: lrDecay, patience: patience, threshold: 0, minimum: 0)
    }
}

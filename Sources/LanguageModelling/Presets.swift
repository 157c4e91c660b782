import LEMModel
import Text

/// Named sets of language-modelling hyperparameters. Explicit flags override them.
package enum LanguageModelPreset: String, CaseIterable, Sendable {
    /// The authors' PTB word configuration (docs/MODEL.md; lamb config LEM_config_word).
    case ptbWord = "ptb-word"
    /// The authors' PTB char configuration (docs/MODEL.md; lamb config LEM_config_char).
    case ptbChar = "ptb-char"
}

/// Every training hyperparameter of `lm train`, resolved from level defaults, a preset and flags.
package struct Hyperparameters: Codable, Equatable {
    package var embedding: Int
    package var hidden: Int
    package var tied: Bool
    package var batch: Int
    package var bptt: Int
    package var optimizer: OptimizerKind = .adam
    package var learningRate: Float
    package var clip: Float?
    package var inputDropout: Float
    package var outputDropout: Float
    package var stateDropout: Float
    package var weightDecay: Float
    package var dt: Float = 1
    package var epochs: Int
    /// Plateau decay factor (1 = off) and patience; or decay at fixed epochs when `decayAt` is set.
    package var lrDecay: Float = 0.25
    package var patience: Int = 0
    package var decayAt: [Int] = []
    package var evalStreams: Int = 1
    /// `weightDecay` as lamb's L2 term in the loss (before clipping) instead of PyTorch's weight decay.
    package var l2InLoss = false
    /// Input and output dropout masks: locked (one per window) or plain (per element and step, lamb's).
    package var masks: Dropout.Kind = .locked
    /// Evaluate at the softmax temperature lamb's search picks on validation.
    package var temperatureSearch = false
    /// lamb's weight averaging.
    package var averaging: WeightAveragingTrigger?

    /// Defaults without a preset: small, quick models that do something real in minutes. The word
    /// defaults are the configuration of the benchmark in issue 3 (emb 256/hidden 256 tied,
    /// batch 20, BPTT 70, Adam 2e-3, clip 1.0, dropout 0.4, 8 epochs).
    package static func defaults(for level: TextLevel) -> Hyperparameters {
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
    ///   validation, or at turn 800 / 400 at the latest, converted to epochs: 48 / 19 epochs,
    ///   epoch 773 / 306; the softmax temperature searched at every evaluation;
    /// - lamb's 1,000 turns of 200 steps (200k steps): 966 epochs of words, 766 of characters.
    ///   Change with --epochs or --max-minutes.
    /// The conversion assumed 207 / 261 windows per epoch; the full PTB gives 208 / 262, so these
    /// epochs end at lamb's turns 1,004.6 / 1,003.5 (200.9k / 200.7k steps) and averaging starts at
    /// the latest at turn 803.9 / 400.9 (docs/REPRODUCTION.md, "The presets' epochs").
    package static func preset(_ preset: LanguageModelPreset) -> Hyperparameters {
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

    package var schedule: LearningRateSchedule {
        if !decayAt.isEmpty { return .stepDecay(milestones: decayAt, factor: lrDecay) }
        if lrDecay >= 1 { return .constant }
        return .plateau(factor: lrDecay, patience: patience, threshold: 0, minimum: 0)
    }
}

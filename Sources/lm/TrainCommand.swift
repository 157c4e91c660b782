import ArgumentParser
import Foundation
import LEMModel
import ToolSupport
import LanguageModelling
import TaskSupport
import Text

extension LM {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a language model: LEM (the paper's), LSTM, GRU or LRU, one or more layers.",
            discussion: """
                Reads a corpus in Mikolov's PTB layout (--data DIR with ptb.train.txt,
                ptb.valid.txt, ptb.test.txt, or ptb.char.*.txt for --level char), or your own
                files (--train/--valid/--test; --level text treats any UTF-8 file as
                characters). Without --data or --train it trains on the built-in default corpus
                (built on first use by corpora/make-default-text.sh).

                Validates after every epoch, keeps the best model in --checkpoint, decays the
                learning rate when validation stops improving, then reports the test metric of
                the best model. Ctrl-C (or --max-minutes) stops cleanly: the state is saved to
                <checkpoint>.resume and `lm train --resume` continues exactly where it stopped.
                The metrics history goes to <checkpoint>.metrics.jsonl and a plot to
                <checkpoint>.curve.svg.

                --cell lstm|gru trains PyTorch's nn.LSTM / nn.GRU on the same pipeline (the
                paper's baselines); --layers N stacks N layers with --dropout-layer between them.
                The checkpoint records both, so eval and sample need no flags.

                --preset ptb-word|ptb-char is the authors' lamb recipe (docs/REPRODUCTION.md):
                L2 in the loss, constant learning rate, weight averaging once validation
                stalls, the softmax temperature searched on validation.

                Started by mpirun (Open MPI), it trains one data-parallel job over the ranks:
                --batch is split over them, gradients are summed each step, rank 0 writes the
                files (README: "Training across processes and machines").

                Examples:
                  lm train
                  lm train --data corpora/ptb --preset ptb-word --checkpoint ptb-word.ckpt \\
                      --max-minutes 60
                  lm train --data corpora/ptb --level char --hidden 512 --epochs 5 \\
                      --checkpoint char.ckpt
                  lm train --level text --train novel.txt --valid novel-valid.txt \\
                      --checkpoint novel.ckpt
                  lm train --data corpora/ptb --cell lstm --layers 2 --dropout-layer 0.25 \\
                      --checkpoint lstm2.ckpt
                  lm train --data corpora/ptb --preset ptb-word --checkpoint ptb-word.ckpt \\
                      --resume
                  mpirun -np 2 lm train --data corpora/ptb --preset ptb-word \\
                      --checkpoint ptb-word.ckpt
                """)

        @Option(help: ArgumentHelp("Corpus directory in Mikolov's layout.", valueName: "dir")) var data: String?
        @Option(help: "Tokens: word (PTB words), char (PTB characters), text (characters of any UTF-8 text).") var level: TextLevel = .word
        @Option(help: ArgumentHelp("Training text (instead of --data).", valueName: "file")) var train: String?
        @Option(help: ArgumentHelp("Validation text (with --train).", valueName: "file")) var valid: String?
        @Option(help: ArgumentHelp("Test text (optional, with --train).", valueName: "file")) var test: String?
        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: "Hyperparameters of the paper: ptb-word or ptb-char (flags override).") var preset: LanguageModelPreset?

        @OptionGroup var architecture: CellOptions
        @Option(help: "Hidden size d of the recurrent layers.") var hidden: Int?
        @Option(help: "Embedding size.") var embedding: Int?
        @Flag(inversion: .prefixedNo, help: "Share the embedding with the output layer (needs embedding = hidden).") var tied: Bool?
        @Option(help: "Parallel streams per batch.") var batch: Int?
        @Option(help: "Truncated BPTT window length.") var bptt: Int?
        @Option(help: "Optimizer: adam or sgd.") var optimizer: OptimizerKind?
        @Option(help: "Learning rate.") var lr: Float?
        @Option(help: "Global gradient-norm clip (0 = none).") var clip: Float?
        @Option(help: "Dropout on the embeddings and on the LEM outputs (locked: one mask per window).") var dropout: Float?
        @Option(name: .customLong("dropout-input"), help: "Dropout on the embeddings only.") var dropoutInput: Float?
        @Option(name: .customLong("dropout-output"), help: "Dropout on the LEM outputs only.") var dropoutOutput: Float?
        @Option(name: .customLong("dropout-state"), help: "Dropout on the recurrent state where it enters the LEM's hidden projection.") var dropoutState: Float?
        @Option(name: .customLong("weight-decay"), help: "L2 penalty λ: λ·w added to the gradients (after clipping; with --l2-in-loss, before, as lamb's λ·½Σw² term of the loss).") var weightDecay: Float?
        @Flag(name: .customLong("l2-in-loss"), inversion: .prefixedNo, help: "Apply --weight-decay as lamb does: as a loss term, before clipping (the presets do).") var l2InLoss: Bool?
        @Option(name: .customLong("dropout-masks"), help: "Input and output dropout masks: locked (one per sequence and window) or plain (per element and step, as lamb; the presets).") var dropoutMasks: Dropout.Kind?
        @Option(name: .customLong("average-after"), help: "Start weight averaging after this many epochs without a better validation (lamb's trigger; presets 48 word, 19 char).") var averageAfter: Int?
        @Option(name: .customLong("average-at"), help: "Start weight averaging at this epoch at the latest.") var averageAt: Int?
        @Flag(name: .customLong("temperature-search"), inversion: .prefixedNo, help: "Evaluate at the softmax temperature lamb's search picks on validation (the presets do).") var temperatureSearch: Bool?
        @Option(help: "The LEM's Δt (--cell lem only).") var dt: Float?
        @Option(help: "Epochs to train.") var epochs: Int?
        @Option(name: .customLong("lr-decay"), help: "Multiply the learning rate by this when validation does not improve (1 = never).") var lrDecay: Float?
        @Option(help: "Epochs without improvement before the learning rate decays.") var patience: Int?
        @Option(name: .customLong("decay-at"), parsing: .upToNextOption, help: "Decay at these epochs instead of on plateau (e.g. --decay-at 30 40).") var decayAt: [Int] = []
        @Option(name: .customLong("eval-streams"), help: "Parallel streams for evaluation (1 = exact sequential evaluation).") var evalStreams: Int?
        @OptionGroup(title: "Run") var runOptions: RunOptions

        mutating func validate() throws {
            if data != nil && train != nil { throw ValidationError("give either --data or --train/--valid, not both") }
            if train != nil && valid == nil { throw ValidationError("--train needs --valid (validation text)") }
            if (valid != nil || test != nil) && train == nil { throw ValidationError("--valid/--test need --train") }
            if level == .text && data != nil { throw ValidationError("--level text reads --train/--valid files, not --data") }
            if let preset, (preset == .ptbWord) != (level == .word) {
                throw ValidationError("--preset \(preset.rawValue) is for --level \(preset == .ptbWord ? "word" : "char")")
            }
            for (name, v) in [("--hidden", hidden), ("--embedding", embedding), ("--batch", batch), ("--bptt", bptt),
                              ("--epochs", epochs), ("--eval-streams", evalStreams)] {
                if let v, v < 1 { throw ValidationError("\(name) must be at least 1 (got \(v))") }
            }
            for (name, v) in [("--dropout", dropout), ("--dropout-input", dropoutInput), ("--dropout-output", dropoutOutput), ("--dropout-state", dropoutState)] {
                if let v, !(v >= 0 && v < 1) { throw ValidationError("\(name) must be in [0, 1) (got \(v))") }
            }
            if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive (got \(lr))") }
            if let clip, !(clip >= 0 && clip.isFinite) { throw ValidationError("--clip must be 0 (off) or positive (got \(clip))") }
            if let dt, !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be positive (got \(dt))") }
            if dt != nil, let cell = architecture.cell, cell != .lem { throw ValidationError("--dt is the LEM's time step; --cell \(cell.rawValue) has none") }
            if let weightDecay, !(weightDecay >= 0) { throw ValidationError("--weight-decay must not be negative") }
            if let lrDecay, !(lrDecay > 0 && lrDecay <= 1) { throw ValidationError("--lr-decay must be in (0, 1]") }
            if let averageAfter, averageAfter < 1 { throw ValidationError("--average-after must be at least 1") }
            if let averageAt, averageAt < 1 { throw ValidationError("--average-at must be at least 1") }
        }

        func hyperparameters() -> Hyperparameters {
            var h = preset.map(Hyperparameters.preset) ?? Hyperparameters.defaults(for: level)
            if let embedding { h.embedding = embedding }
            if let hidden {
                h.hidden = hidden
                // A tied model follows the hidden size unless the embedding is given too.
                if h.tied && embedding == nil && tied != false { h.embedding = hidden }
            }
            if let tied { h.tied = tied }
            if let batch { h.batch = batch }
            if let bptt { h.bptt = bptt }
            if let optimizer { h.optimizer = optimizer }
            if let lr { h.learningRate = lr }
            if let clip { h.clip = clip > 0 ? clip : nil }
            if let dropout { h.inputDropout = dropout; h.outputDropout = dropout }
            if let dropoutInput { h.inputDropout = dropoutInput }
            if let dropoutOutput { h.outputDropout = dropoutOutput }
            if let dropoutState { h.stateDropout = dropoutState }
            if let weightDecay { h.weightDecay = weightDecay }
            if let dt { h.dt = dt }
            if let epochs { h.epochs = epochs }
            if let lrDecay { h.lrDecay = lrDecay }
            if let patience { h.patience = patience }
            if !decayAt.isEmpty { h.decayAt = decayAt }
            if let evalStreams { h.evalStreams = evalStreams }
            if let l2InLoss { h.l2InLoss = l2InLoss }
            if let dropoutMasks { h.masks = dropoutMasks }
            if let temperatureSearch { h.temperatureSearch = temperatureSearch }
            if averageAfter != nil || averageAt != nil {
                h.averaging = WeightAveragingTrigger(epochsWithoutImprovement: averageAfter ?? h.averaging?.epochsWithoutImprovement ?? Int.max / 2,
                                                     latestEpoch: averageAt ?? h.averaging?.latestEpoch)
            }
            return h
        }

        func run() throws {
            try reportingErrors {
                let corpus: CorpusSource = train.map { .files(train: $0, valid: valid!, test: test) } ?? .directory(data)
                let training = LanguageModelTraining(
                    corpus: corpus, level: level, hyperparameters: hyperparameters(), architecture: architecture.architecture,
                    checkpoint: checkpoint.checkpoint, resume: runOptions.resume, seed: runOptions.seed, limits: runOptions.limits)
                try training.run(progress: TerminalProgress())
            }
        }
    }
}

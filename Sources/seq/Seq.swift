import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

@main
struct Seq: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seq",
        abstract: "Train and run LEM sequence classifiers and regressors on your own sequence files (.ts, .npz, .csv).",
        discussion: """
            The paper's sequence experiments (sequential MNIST, noisy CIFAR-10, EigenWorms, heart
            rate, FitzHugh-Nagumo) are being built on this tool (issue "The paper's whole table");
            today it classifies or regresses labelled sequences from files:
              .ts   the UEA/UCR/Monash archives' format (sktime's), equal-length series
              .npz  NumPy arrays x [N, T, F] (or [N, T]) and y [N] (classes 0…C−1) or
                    [N, K] (regression targets)
              .csv  one sequence per line: the label (or target, with --regression), then
                    the T × F values (--features F)

            Examples:
              seq train --train EigenWorms_TRAIN.ts --valid EigenWorms_VALID.ts --hidden 32 \\
                  --dt 0.00017 --lr 0.00609 --batch 8 --checkpoint worms.ckpt
              seq eval --checkpoint worms.ckpt --data EigenWorms_TEST.ts
            """,
        version: "0.1.0",
        subcommands: [Train.self, Eval.self])

    static func main() {
        selectFastBLASKernels()
        main(nil)
    }
}

/// Runs `body`, turning every error into one line on stderr and exit status 1 (no stack traces).
func reportingErrors(_ body: () throws -> Void) throws {
    try ToolSupport.reportingErrors(tool: "seq", body)
}

extension Seq {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a sequence classifier or regressor: LEM (the paper's), LSTM or GRU, one or more layers.",
            discussion: """
                Reads --train and --valid (and --test, evaluated with the best checkpoint at the
                end), trains a stack of recurrent layers whose last step's state is classified,
                validates every epoch and keeps the best model in --checkpoint. Ctrl-C or
                --max-minutes stop resumably (continue with --resume).

                Examples:
                  seq train --train a.ts --valid b.ts --checkpoint m.ckpt
                  seq train --train a.csv --valid b.csv --features 3 --cell gru --layers 2 \\
                      --checkpoint gru.ckpt
                  seq train --train hr_train.ts --valid hr_valid.ts --hidden 128 \\
                      --dt 0.2371 --lr 0.00211 --batch 32 --checkpoint hr.ckpt
                """)

        @Option(help: ArgumentHelp("Training sequences (.ts, .npz or .csv).", valueName: "file")) var train: String
        @Option(help: ArgumentHelp("Validation sequences.", valueName: "file")) var valid: String
        @Option(help: ArgumentHelp("Test sequences (evaluated at the end with the best checkpoint).", valueName: "file")) var test: String?
        @Option(help: "Values per step of a .csv file.") var features: Int?
        @Flag(help: "The labels of a .csv or .npz file are regression targets (a .ts file says so itself): a linear read-out trained on the mean squared error, RMSE as the metric.") var regression = false
        @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file")) var checkpoint = "seq.ckpt"
        @OptionGroup(title: "Model") var architecture: CellOptions
        @Option(help: "Hidden size d of the recurrent layers.") var hidden = 128
        @Option(help: "The LEM's Δt (--cell lem only).") var dt: Float = 1
        @Option(help: "Sequences per batch.") var batch = 120
        @Option(help: "Learning rate (Adam).") var lr: Float = 1e-3
        @Option(help: "Epochs to train.") var epochs = 30
        @Option(help: "Global gradient-norm clip (0 = none).") var clip: Float = 0
        @Option(name: .customLong("decay-at"), parsing: .upToNextOption, help: "Multiply the learning rate by --lr-decay at these epochs.") var decayAt: [Int] = []
        @Option(name: .customLong("lr-decay"), help: "The factor of --decay-at.") var lrDecay: Float = 0.1
        @OptionGroup(title: "Run") var runOptions: RunOptions

        mutating func validate() throws {
            for (name, v) in [("--hidden", hidden), ("--batch", batch), ("--epochs", epochs), ("--features", features ?? 1)] where v < 1 {
                throw ValidationError("\(name) must be at least 1 (got \(v))")
            }
            if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive") }
            if !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be positive") }
            if !(clip >= 0) { throw ValidationError("--clip must be 0 (off) or positive") }
            if !(lrDecay > 0 && lrDecay <= 1) { throw ValidationError("--lr-decay must be in (0, 1]") }
        }

        func run() throws {
            try reportingErrors {
                var training = SequenceTraining(train: train, valid: valid)
                (training.test, training.features, training.architecture, training.regression) = (test, features, architecture.architecture, regression)
                (training.hidden, training.dt, training.batch, training.lr, training.epochs) = (hidden, dt, batch, lr, epochs)
                (training.clip, training.decayAt, training.lrDecay) = (clip > 0 ? clip : nil, decayAt, lrDecay)
                (training.checkpoint, training.resume, training.seed, training.limits) = (checkpoint, runOptions.resume, runOptions.seed, runOptions.limits)
                try training.run(progress: TerminalProgress())
            }
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accuracy (classifier) or RMSE (regressor) on a file; --predictions lists each sequence's prediction.",
            discussion: """
                Examples:
                  seq eval --checkpoint m.ckpt --data test.ts
                  seq eval --checkpoint m.ckpt --data test.csv --features 3 --predictions --json
                """)

        @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file")) var checkpoint = "seq.ckpt"
        @Option(help: ArgumentHelp("Labelled sequences (.ts, .npz or .csv).", valueName: "file")) var data: String
        @Option(help: "Values per step of a .csv file.") var features: Int?
        @Flag(help: "Also print each sequence's predicted class and probabilities.") var predictions = false
        @Flag(help: "JSON lines.") var json = false

        func run() throws {
            try reportingErrors {
                var evaluation = SequenceEvaluation(checkpoint: checkpoint, data: data)
                evaluation.features = features
                let r = try evaluation.run(predictions: predictions ? { i, prediction in
                    switch prediction {
                    case let .classProbabilities(best, p):
                        print(json ? jsonLine(["sequence": i, "class": Int(best), "probabilities": p.map(Double.init)])
                                   : "\(i)\t\(best)\t" + p.map { String(format: "%.3f", $0) }.joined(separator: " "))
                    case let .values(v):
                        print(json ? jsonLine(["sequence": i, "prediction": v.map(Double.init)])
                                   : "\(i)\t" + v.map { String(format: "%.6g", $0) }.joined(separator: " "))
                    }
                } : nil)
                let lossName = r.metricName == "accuracy" ? "cross_entropy" : "mse"
                if json {
                    print(jsonLine([r.metricName.lowercased(): r.metric, lossName: r.loss, "count": r.count, "data": data, "checkpoint": checkpoint]))
                } else if r.metricName == "accuracy" {
                    print(String(format: "accuracy %.2f%% on %@ (%d sequences, cross-entropy %.4f)", 100 * r.metric, data, r.count, r.loss))
                } else {
                    print(String(format: "RMSE %.5g on %@ (%d sequences, mean squared error %.5g)", r.metric, data, r.count, r.loss))
                }
            }
        }
    }
}

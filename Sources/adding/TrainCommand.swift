import ArgumentParser
import Foundation
import LEMModel
import SequenceModelling
import TaskSupport
import ToolSupport

extension Adding {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train one cell on the adding problem and report the test MSE as it goes.",
            discussion: """
                Defaults are the authors' LEM setting (hidden 128, batch 50, Adam 2.6e-3,
                dt 0.0242); give LSTM and GRU the same budget with --max-minutes or --steps.

                Examples:
                  adding train --cell lem --length 1000 --steps 3000 --csv lem-1000.csv
                  adding train --cell gru --length 1000 --max-minutes 10 --csv gru-1000.csv
                """)

        @Option(help: "Recurrent cell: lem, lstm, gru or lru.") var cell: CellKind = .lem
        @Option(help: "Sequence length T.") var length = 1000
        @Option(help: "Hidden size d.") var hidden = 128
        @Option(help: "Sequences per training step.") var batch = 50
        @Option(help: "Learning rate (Adam).") var lr: Float = 2.6e-3
        @Option(help: "The LEM's Δt (--cell lem only).") var dt: Float = 0.0242
        @Option(help: "Training steps.") var steps = 10_000
        @Option(name: .customLong("max-minutes"), help: "Stop after this many minutes of training (evaluation not counted).") var maxMinutes: Double?
        @Option(name: .customLong("eval-every"), help: "Steps between test evaluations.") var evalEvery = 100
        @Option(name: .customLong("test-size"), help: "Test sequences (fixed: the same for every cell and seed).") var testSize = 1000
        @Option(help: "Global gradient-norm clip (0 = none).") var clip: Float = 0
        @Option(help: "Random seed (initialisation and training sequences).") var seed: UInt64 = 1
        @Option(help: ArgumentHelp("Write the curve here as CSV (step, training minutes, test MSE).", valueName: "file")) var csv: String?
        @Option(help: ArgumentHelp("Model checkpoint (safetensors; default adding-<cell>-T<length>.ckpt, so runs of several cells side by side keep apart); also <checkpoint>.resume, .metrics.jsonl and .curve.svg.", valueName: "file"))
        var checkpoint: String?
        @Flag(help: "Continue from <checkpoint>.resume (the task's settings come from it).") var resume = false

        mutating func validate() throws {
            for (name, v) in [("--length", length), ("--hidden", hidden), ("--batch", batch), ("--steps", steps),
                              ("--eval-every", evalEvery), ("--test-size", testSize)] where v < 1 {
                throw ValidationError("\(name) must be at least 1 (got \(v))")
            }
            if length < 2 { throw ValidationError("--length must be at least 2 (one marker in each half)") }
            if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive") }
            if !(dt > 0 && dt.isFinite) { throw ValidationError("--dt must be positive") }
            if !(clip >= 0) { throw ValidationError("--clip must be 0 (off) or positive") }
            if let maxMinutes, !(maxMinutes > 0) { throw ValidationError("--max-minutes must be positive") }
            if steps % evalEvery != 0 {
                throw ValidationError("--steps \(steps) must be a multiple of --eval-every \(evalEvery) (each evaluation ends an epoch of the training loop)")
            }
        }

        func run() throws {
            try reportingErrors(tool: "adding") {
                var training = AddingTraining()
                (training.cell, training.hidden, training.length, training.batch) = (cell, hidden, length, batch)
                (training.steps, training.evalEvery, training.testSize) = (steps, evalEvery, testSize)
                (training.lr, training.dt, training.clip, training.seed) = (lr, dt, clip, seed)
                (training.checkpoint, training.resume, training.maxMinutes, training.csv) = (checkpoint ?? "adding-\(cell.rawValue)-T\(length).ckpt", resume, maxMinutes, csv)
                try training.run(progress: TerminalProgress())
            }
        }
    }
}

import ArgumentParser
import Foundation
import LEMModel
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

        @Option(help: "Recurrent cell: lem, lstm or gru.") var cell: CellKind = .lem
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
        }

        func run() throws {
            try reportingErrors(tool: "adding") {
                let model = AddingModel(cell: cell, hiddenSize: hidden, dt: dt, workers: min(workerCount, batch))
                var rng = RandomGenerator(seed: seed)
                model.initialize(&rng)
                let optimizer = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
                let test = AddingBatch(length: length, first: 0, count: testSize, seed: AddingBatch.testSeed)
                var rows: [String] = ["step,minutes,test_mse"]
                func report(_ step: Int, _ seconds: Double) throws {
                    let mse = model.meanSquaredError(test, chunk: batch)
                    print(String(format: "step %6d  %7.2f min  test MSE %.6f", step, seconds / 60, mse))
                    rows.append(String(format: "%d,%.4f,%.8g", step, seconds / 60, mse))
                    if let csv { try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8) }
                }
                writeStandardError("adding: \(cell.displayName) hidden \(hidden)\(cell == .lem ? ", dt \(dt)" : ""), T = \(length), batch \(batch), "
                                   + "Adam \(lr), \(formatCount(Double(model.parameters.scalarCount))) parameters; "
                                   + "predicting the mean gives test MSE 0.167\n")
                var seconds = 0.0
                try report(0, 0)
                for step in 1...steps {
                    let t0 = monotonicSeconds()
                    let data = AddingBatch(length: length, first: (step - 1) * batch, count: batch, seed: seed)
                    let loss = model.trainStep(data)
                    guard loss.isFinite else { throw ToolError(description: "the training loss became \(loss) at step \(step) (try a lower --lr or a --clip)") }
                    if clip > 0 { clipGradientNorm(model.parameters, maxNorm: clip) }
                    optimizer.step(model.parameters, learningRate: lr)
                    seconds += monotonicSeconds() - t0
                    let outOfTime = maxMinutes.map { seconds >= $0 * 60 } ?? false
                    if step % evalEvery == 0 || step == steps || outOfTime { try report(step, seconds) }
                    if outOfTime { break }
                }
            }
        }
    }
}

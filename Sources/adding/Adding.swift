// `adding`: the adding problem, the paper's long-memory experiment (LEM.md; Figure 1 of Rusch et
// al.), for LEM, LSTM and GRU through the same layers `lm` and `kws` train. A demonstration with
// figures, not a unit test.
//
// Each sequence has T steps of (value, marker): values uniform in [0, 1], two markers set to 1, one
// in each half; the target is the sum of the two marked values. A model that has not learned to
// remember predicts the mean, 1, and its mean squared error is the variance, 1/6 ≈ 0.167.

import ArgumentParser
import Foundation
import LEMModel
import TaskSupport
import ToolSupport

@main
struct Adding: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adding",
        abstract: "The adding problem: LEM vs LSTM vs GRU on long-memory regression (the paper's Figure 1).",
        discussion: """
            Trains one recurrent layer and a linear read-out of its last hidden state on random
            sequences of T (value, marker) pairs to output the sum of the two marked values, and
            prints the test MSE (1,000 fixed test sequences, the same for every cell and seed)
            every --eval-every steps; 0.167 is what predicting the mean gives. --csv keeps the
            curve; `adding plot` draws several curves in one SVG.

            Examples:
              adding train --cell lem --length 2000 --csv lem-2000.csv
              adding train --cell lstm --length 2000 --max-minutes 20 --csv lstm-2000.csv
              adding plot lem-2000.csv lstm-2000.csv gru-2000.csv --out adding-2000.svg
            """,
        subcommands: [Train.self, Plot.self],
        defaultSubcommand: Train.self)

    static func main() {
        selectFastBLASKernels()
        main(nil)
    }
}

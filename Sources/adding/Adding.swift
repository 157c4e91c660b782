// `adding`: the adding problem, the paper's long-memory experiment, for LEM, LSTM and GRU through
// the same layers `lm` and `kws` train; the task and its training live in SequenceModelling.

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
            every --eval-every steps; 0.167 is what predicting the mean gives. Runs on the
            same training loop as lm and kws: --checkpoint keeps the best model, Ctrl-C or
            --max-minutes stop resumably (--resume continues), the metrics log and a learning
            curve go beside the checkpoint. --csv keeps the curve of test MSE against steps and
            minutes; `adding plot` draws several curves in one SVG.

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

import ArgumentParser
import TaskSupport
import ToolSupport

extension Seq {
    struct Quantize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an int8 copy of a trained model for fast inference.",
            discussion: """
                Every weight matrix (recurrent layers, read-out) is stored as int8 with one
                float scale per row (max |row| / 127); biases and the LRU's eigenvalue parameters stay
                float. The file is about a quarter of the float one and holds no training
                state. `seq eval` and `seq predict` run a quantised checkpoint in int8
                automatically (the same as --int8 on the float checkpoint).
                docs/CHECKPOINTS.md has the layout.

                Example:
                  seq quantize --checkpoint smnist.ckpt          # writes smnist.int8.ckpt
                  seq eval --checkpoint smnist.int8.ckpt --task smnist
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Where to write the int8 checkpoint (default: <checkpoint>.int8.ckpt).", valueName: "file"))
        var output: String?

        func run() throws {
            try reportingErrors { try quantizeCheckpoint(input: checkpoint.checkpoint, output: output, kind: "seq") }
        }
    }
}

import ArgumentParser
import TaskSupport
import ToolSupport

extension LM {
    struct Quantize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an int8 copy of a trained model for fast inference.",
            discussion: """
                Every weight matrix (embedding, recurrent layers, decoder) is stored
                as int8 with one float scale per row (max |row| / 127); biases stay
                float. The file is about a quarter of the float one and holds no
                training state. `lm sample` and `lm eval` run a quantised checkpoint
                in int8 automatically, with the same results as --int8 on the float
                checkpoint. docs/CHECKPOINTS.md has the layout.

                Example:
                  lm quantize --checkpoint ptb-word.ckpt            # writes ptb-word.int8.ckpt
                  lm sample --checkpoint ptb-word.int8.ckpt --length 100
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Where to write the int8 checkpoint (default: <checkpoint>.int8.ckpt).", valueName: "file"))
        var output: String?

        func run() throws {
            try reportingErrors { try quantizeCheckpoint(input: checkpoint.checkpoint, output: output, kind: "lm") }
        }
    }
}

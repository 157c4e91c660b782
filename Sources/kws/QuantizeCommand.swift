import ArgumentParser
import TaskSupport
import ToolSupport

extension KWS {
    struct Quantize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an int8 copy of a trained model for fast inference.",
            discussion: """
                Every weight matrix (recurrent layers, classifier) is stored as int8
                with one float scale per row (max |row| / 127); biases stay float.
                The file is about a quarter of the float one and holds no training
                state. `kws classify`, `listen`, `eval` and `eval-stream` run a
                quantised checkpoint in int8 automatically (the same as --int8 on
                the float checkpoint). docs/CHECKPOINTS.md has the layout.

                Example:
                  kws quantize --checkpoint g12.ckpt          # writes g12.int8.ckpt
                  kws classify --checkpoint g12.int8.ckpt yes.wav
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Where to write the int8 checkpoint (default: <checkpoint>.int8.ckpt).", valueName: "file"))
        var output: String?

        func run() throws {
            try reportingErrors { try quantizeCheckpoint(input: checkpoint.checkpoint, output: output, kind: "kws") }
        }
    }
}

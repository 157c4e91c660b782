import ArgumentParser
import LanguageModelling
import ToolSupport

extension LM {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a trained model as ONNX, for onnxruntime and other runtimes.",
            discussion: """
                The model maps token ids and the recurrent state to next-token logits and
                the state after the last token (every cell, any number of layers; the LEM
                and the LRU's recurrence as Scans over ONNX operators, LSTM and GRU as
                ONNX's own operators). The
                vocabulary and settings are in the model's metadata. An int8 checkpoint is
                exported with its dequantized weights. docs/DEPLOYING.md shows the use from
                Python and what is checked.

                Example:
                  lm export --checkpoint ptb-word.ckpt --onnx ptb-word.onnx
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Where to write the ONNX model (default: <checkpoint> with .onnx).", valueName: "file"))
        var onnx: String?

        func run() throws {
            try reportingErrors {
                let summary = try LanguageModelExport(checkpoint: checkpoint.checkpoint, output: onnx).run()
                for line in summary.lines { print(line) }
            }
        }
    }
}

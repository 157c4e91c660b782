import ArgumentParser
import SequenceModelling
import ToolSupport

extension Seq {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a trained model as ONNX, for onnxruntime and other runtimes.",
            discussion: """
                The model maps sequences (features [batch, time, F], batch-first, as seq reads
                them) and the recurrent state to class probabilities after the last step (a
                classifier) or to the predictions after the last step or at every step (a
                regressor), and the new state, so a caller can run whole sequences or stream
                them in pieces. Class names or the target width are in the metadata. Every
                cell (LEM, LSTM, GRU, LRU), any number of layers; an int8 checkpoint goes
                out with its dequantized weights. docs/DEPLOYING.md shows the use from Python.

                Example:
                  seq export --checkpoint smnist.ckpt --onnx smnist.onnx
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Where to write the ONNX model (default: <checkpoint> with .onnx).", valueName: "file"))
        var onnx: String?

        func run() throws {
            try reportingErrors {
                for line in try SequenceExport(checkpoint: checkpoint.checkpoint, output: onnx).run().lines { print(line) }
            }
        }
    }
}

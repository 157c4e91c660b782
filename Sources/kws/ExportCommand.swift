import ArgumentParser
import KeywordSpotting
import ToolSupport

extension KWS {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a trained model as ONNX, for onnxruntime and other runtimes.",
            discussion: """
                The model maps features (as `kws` computes them: docs/FEATURES.md) and the
                recurrent state to class probabilities after the last frame given and the
                new state, so a caller can classify a clip at once or stream frames. The
                graph applies the checkpoint's normaliser; labels, feature settings and
                normaliser are in the model's metadata. Every cell, any number of layers;
                an int8 checkpoint is exported with its dequantized weights.
                docs/DEPLOYING.md shows the use from Python and what is checked.

                Example:
                  kws export --checkpoint google12.ckpt --onnx google12.onnx
                  kws export --checkpoint google12.ckpt --onnx google12-audio.onnx --raw-audio
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @Option(help: ArgumentHelp("Where to write the ONNX model (default: <checkpoint> with .onnx).", valueName: "file"))
        var onnx: String?
        @Flag(name: .customLong("raw-audio"),
              help: "The model takes raw clips (audio [batch, clip samples] at the checkpoint's rate: 16,000 at 16 kHz for the presets) and computes the features itself (STFT, filterbank, dB, DCT as ONNX operators), from zero states.")
        var rawAudio = false

        func run() throws {
            try reportingErrors {
                let summary = try KeywordSpotterExport(checkpoint: checkpoint.checkpoint, output: onnx, rawAudio: rawAudio).run()
                for line in summary.lines { print(line) }
            }
        }
    }
}

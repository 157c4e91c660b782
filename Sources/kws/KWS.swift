import ArgumentParser
import Foundation
import KeywordSpotting
import LEMModel
import TaskSupport
import ToolSupport

@main
struct KWS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kws",
        abstract: "Train and run LEM keyword spotters (Speech Commands, 12 classes).",
        discussion: """
            Classes (Google12):
              _silence_, _unknown_, yes, no, up, down, left, right, on, off, stop, go.
            Start here:
              kws train                # trains on the built-in synthetic corpus
              kws train --data speech_commands_v0.02 --preset google12 \\
                  --checkpoint g12.ckpt
              kws eval --checkpoint g12.ckpt --data speech_commands_v0.02 --split test
              kws classify --checkpoint g12.ckpt recording.wav another.flac --top 3
            """,
        version: "0.1.0",
        subcommands: [Train.self, Eval.self, Classify.self, Listen.self, MakeStream.self, EvalStream.self, Synthesize.self, Quantize.self, Export.self, Bench.self, Plot.self])

    static func main() {
        selectFastBLASKernels()
        main(nil)
    }
}

struct CheckpointOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file"))
    var checkpoint: String = "kws.ckpt"
}

/// Runs `body`, turning every error into one line on stderr and exit status 1 (no stack traces).
func reportingErrors(_ body: () throws -> Void) throws {
    try ToolSupport.reportingErrors(tool: "kws", body)
}
extension KeywordSpotterPreset: ExpressibleByArgument {}

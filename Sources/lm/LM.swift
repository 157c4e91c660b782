import ArgumentParser
import Foundation
import LEMModel
import LanguageModelling
import TaskSupport
import ToolSupport
import Text

@main
struct LM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Train and run LEM language models (words or characters, PTB format).",
        discussion: """
            Start here:
              lm train                 # trains on the built-in default corpus
              lm train --data corpora/ptb --preset ptb-word --checkpoint ptb-word.ckpt
              lm eval --checkpoint ptb-word.ckpt --data corpora/ptb --split test
              lm sample --checkpoint ptb-word.ckpt --prime "the market" --length 60
            """,
        version: "0.1.0",
        subcommands: [Train.self, Eval.self, Sample.self, Quantize.self, Export.self, Bench.self, Plot.self])

    static func main() {
        selectFastBLASKernels()
        main(nil)
    }
}

/// Where the model lives.
struct CheckpointOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model checkpoint (safetensors).", valueName: "file"))
    var checkpoint: String = "lm.ckpt"
}

/// Runs `body`, turning every error into one line on stderr and exit status 1 (no stack traces).
func reportingErrors(_ body: () throws -> Void) throws {
    try ToolSupport.reportingErrors(tool: "lm", body)
}

extension TextLevel: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension Dropout.Kind: ExpressibleByArgument {}
extension LanguageModelPreset: ExpressibleByArgument {}

import ArgumentParser
import Foundation
import LEMModel
import LanguageModelling
import TaskSupport
import Text
import ToolSupport

extension LM {
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate text from a trained model.",
            discussion: """
                Feeds --prime (tokenised like the training data) and then samples one token at
                a time from softmax(logits / temperature), optionally restricted to the --top-k
                most likely tokens. The same seed gives the same text. Word level: <eos>
                becomes a line break; char level: _ becomes a space.

                Examples:
                  lm sample --checkpoint ptb-word.ckpt --length 100
                  lm sample --checkpoint char.ckpt --prime "the company" --temperature 0.7 \\
                      --top-k 20 --seed 7
                """)

        @OptionGroup var checkpoint: CheckpointOption
        @OptionGroup var precision: PrecisionOption
        @Option(help: "Tokens to generate.") var length: Int = 200
        @Option(help: "Softmax temperature (> 0; lower is more conservative).") var temperature: Float = 1.0
        @Option(name: .customLong("top-k"), help: "Sample only among the k most likely tokens (0 = all).") var topK: Int = 0
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Text to start from.") var prime: String?

        mutating func validate() throws {
            if !(temperature > 0 && temperature.isFinite) { throw ValidationError("--temperature must be positive (got \(temperature))") }
            if length < 0 { throw ValidationError("--length must not be negative") }
            if topK < 0 { throw ValidationError("--top-k must not be negative") }
        }

        func run() throws {
            try reportingErrors {
                var sampling = Sampling(checkpoint: checkpoint.checkpoint)
                (sampling.int8, sampling.prime, sampling.length) = (precision.int8, prime, length)
                (sampling.temperature, sampling.topK, sampling.seed) = (temperature, topK, seed)
                var text = try sampling.run()
                if !text.hasSuffix("\n") { text += "\n" }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

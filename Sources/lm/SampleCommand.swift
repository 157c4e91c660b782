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
                let (model, tool, _) = try loadLanguageModel(checkpoint.checkpoint, int8: precision.int8)
                let level = tool.level
                var primeTokens: [String] = []
                if let prime, !prime.isEmpty {
                    switch level {
                    case .word: primeTokens = prime.split(whereSeparator: \.isWhitespace).map(String.init)
                    case .char: primeTokens = prime.map { $0 == " " ? "_" : String($0) }
                    case .text: primeTokens = prime.map { String($0) }
                    }
                }
                let primeIDs = try tool.vocabulary.encode(primeTokens, file: "--prime")
                var state = model.initialState(batch: 1)
                var rng = RandomGenerator(seed: seed)
                let V = model.config.vocabularySize
                var current = contextToken(tool.vocabulary, level: level)
                var logits = model.nextTokenLogits(after: &current, batch: 1, state: &state)
                for id in primeIDs {
                    current = id
                    logits = model.nextTokenLogits(after: &current, batch: 1, state: &state)
                }
                var generated: [String] = []
                var order = [Int](repeating: 0, count: V)
                for _ in 0..<length {
                    current = sampleToken(logits: logits, count: V, temperature: temperature, topK: topK, order: &order, rng: &rng)
                    generated.append(tool.vocabulary.tokens[Int(current)])
                    logits = model.nextTokenLogits(after: &current, batch: 1, state: &state)
                }
                var text = detokenize(primeTokens + generated, level: level)
                if !text.hasSuffix("\n") { text += "\n" }
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}

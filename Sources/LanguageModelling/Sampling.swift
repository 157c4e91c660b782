import Foundation
import LEMModel
import Text

/// `lm sample` as one call: a language model's continuation of `prime` (after the context
/// token, as every split starts), `length` tokens drawn from softmax(logits / temperature),
/// optionally from the `topK` most likely only; reproducible for a seed.
package struct Sampling {
    package var checkpoint: String
    package var int8 = false
    package var prime: String?
    package var length = 100
    /// Divides the logits (lower is more conservative); `lm eval`'s logit scale multiplies them.
    package var temperature: Float = 1
    package var topK = 0
    package var seed: UInt64 = 1

    package init(checkpoint: String) { self.checkpoint = checkpoint }

    /// The prime and the sampled tokens as text.
    package func run() throws -> String {
        let (model, tool, _) = try loadLanguageModel(checkpoint, int8: int8)
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
        return detokenize(primeTokens + generated, level: level)
    }
}

/// Draws a token from softmax(logits / temperature) over all tokens or the top k.
package func sampleToken(logits: UnsafeMutablePointer<Float>, count: Int, temperature: Float, topK: Int,
                 order: inout [Int], rng: inout RandomGenerator) -> Int32 {
    if topK > 0 && topK < count {
        for i in 0..<count { order[i] = i }
        // Partial selection of the k largest logits (ties broken by index, deterministic).
        order.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        let threshold = logits[order[topK - 1]]
        for i in 0..<count where logits[i] < threshold { logits[i] = -.infinity }
    }
    softmaxInPlace(logits, count: count, temperature: temperature)
    let u = rng.uniformFloat()
    var cumulative: Float = 0
    var last = 0
    for i in 0..<count where logits[i] > 0 {
        cumulative += logits[i]
        last = i
        if u < cumulative { return Int32(i) }
    }
    return Int32(last)
}

import Foundation
import LEMModel
import Text

/// The token that precedes the first token of a split, so that every token is predicted:
/// `<eos>` at the PTB levels (each line follows a line end); a line break for plain text.
package func contextToken(_ vocabulary: Vocabulary, level: TextLevel) -> Int32 {
    switch level {
    case .word, .char: return vocabulary.id(endOfSentence) ?? 0
    case .text: return vocabulary.id("\n") ?? 0
    }
}

/// Summed cross-entropy (nats) over every token of `tokens`, with `streams` parallel streams
/// (1 = the exact sequential evaluation the literature reports). No dropout.
///
/// Under MPI each rank runs its share of the streams and the sums are added over the ranks: the
/// same figure as one process (up to summation order). One stream cannot be split: with
/// `streams` 1, rank 0 evaluates and the others wait.
package func evaluate(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int, window: Int = 200,
              group: ProcessGroup = .single) -> (loss: Double, tokens: Int) {
    let data = EvaluationStreams(tokens: tokens, context: context, streams: streams)
    var total = 0.0
    forEachEvaluationWindow(model, data, window: window, group: group) { inputs, targets, steps, batch, state, rng in
        total += model.forward(tokens: inputs, targets: targets, steps: steps, batch: batch, state: &state, training: false, rng: &rng)
    }
    var sums = [total]
    group.sum(&sums)
    return (sums[0], data.predictionCount)
}

/// Runs `body` on this rank's streams of `data`, window by window from a zero state that is
/// carried across windows: `body(inputs, targets, steps, batch, state, rng)` with `[steps, batch]`
/// token columns (targets −1 past the end); column j is stream `group.share(of: data.streams)[j]`.
func forEachEvaluationWindow(_ model: LanguageModel, _ data: EvaluationStreams, window: Int, group: ProcessGroup,
                                     _ body: (_ inputs: [Int32], _ targets: [Int32], _ steps: Int, _ batch: Int,
                                              _ state: inout RecurrentState, _ rng: inout RandomGenerator) -> Void) {
    let mine = group.share(of: data.streams), S = data.streams, B = mine.count
    guard B > 0 else { return }
    var state = model.initialState(batch: B)
    var rng = RandomGenerator(seed: 0)   // unused without dropout
    var inputs = [Int32](repeating: 0, count: window * B), targets = inputs
    var start = 0
    while start < data.length {
        let steps = min(window, data.length - start)
        gatherColumns(data.inputs, stride: S, rows: start..<start + steps, columns: mine, into: &inputs)
        gatherColumns(data.targets, stride: S, rows: start..<start + steps, columns: mine, into: &targets)
        body(inputs, targets, steps, B, &state, &rng)
        start += steps
    }
}

/// Perplexity = exp(mean NLL) for words; bits per character = mean NLL / ln 2 otherwise.
package func headline(_ meanLoss: Double, level: TextLevel) -> Double {
    level == .word ? exp(meanLoss) : meanLoss / log(2)
}

package func formatHeadline(_ meanLoss: Double, level: TextLevel) -> String {
    level == .word ? String(format: "ppl %.2f", exp(meanLoss)) : String(format: "bpc %.4f", meanLoss / log(2))
}

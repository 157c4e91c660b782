import Foundation
import LEMModel
import Text

/// lamb's evaluation softmax temperatures: multipliers of the logits from 1.06 down to 0.80 in
/// steps of 0.02 (`eval_softmax_temperature` −0.8 in the authors' configurations).
package let temperatureGrid: [Float] = (0...13).map { Float(106 - 2 * $0) / 100 }   // exact hundredths: 1.00 is 1

/// Tokens at the start of the validation split on which the temperature is chosen (lamb's
/// `eval_softmax_temperature_estimation_num_tokens`).
package let temperatureSearchTokens = 50_000

/// lamb's search over `temperatureGrid`: walk the grid in order, keep the lowest loss, stop
/// once the best point is two or more steps behind (two evaluations in a row without a gain).
package func lambTemperatureChoice(_ losses: [Double]) -> Int {
    var best = 0
    for i in 1..<losses.count {
        if losses[i] < losses[best] { best = i } else if best + 1 < i { break }
    }
    return best
}

/// The split's summed cross-entropy at each logit multiplier of `scales`, over the whole split
/// and over its first `searchTokens` tokens, in one forward pass (the logits do not depend on
/// the temperature, so every multiplier is evaluated on the same logits). Under MPI as `evaluate`.
package func evaluateTempered(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int, scales: [Float], searchTokens: Int = 0,
                      window: Int = 200, group: ProcessGroup = .single) -> (full: [Double], search: [Double], tokens: Int) {
    let data = EvaluationStreams(tokens: tokens, context: context, streams: streams)
    let mine = group.share(of: data.streams), G = scales.count
    let V = model.config.vocabularySize
    var sums = [Double](repeating: 0, count: 2 * G)   // [whole split | search prefix] per multiplier
    var start = 0
    forEachEvaluationWindow(model, data, window: window, group: group) { inputs, targets, steps, B, state, rng in
        _ = model.forward(tokens: inputs, targets: targets, steps: steps, batch: B, state: &state, training: false, rng: &rng)
        let rows = targets.withUnsafeBufferPointer {
            temperedCrossEntropyRows(logits: model.lastLogits, rows: steps * B, classes: V, targets: $0.baseAddress!, scales: scales)
        }
        for t in 0..<steps {
            for (j, s) in mine.enumerated() where targets[t * B + j] >= 0 {
                let inSearch = s * data.length + start + t < searchTokens   // the token's place in the split
                for g in 0..<G {
                    let nll = Double(rows[(t * B + j) * G + g])
                    sums[g] += nll
                    if inSearch { sums[G + g] += nll }
                }
            }
        }
        start += steps
    }
    group.sum(&sums)
    return (Array(sums[..<G]), Array(sums[G...]), data.predictionCount)
}

/// The split's summed cross-entropy at the temperature lamb's search picks on its first
/// `temperatureSearchTokens` tokens, and that temperature (a multiplier of the logits).
package func evaluateWithTemperatureSearch(_ model: LanguageModel, tokens: [Int32], context: Int32, streams: Int,
                                   group: ProcessGroup = .single) -> (loss: Double, tokens: Int, temperature: Float) {
    let r = evaluateTempered(model, tokens: tokens, context: context, streams: streams, scales: temperatureGrid,
                             searchTokens: temperatureSearchTokens, group: group)
    let choice = lambTemperatureChoice(r.search)
    return (r.full[choice], r.tokens, temperatureGrid[choice])
}

import Foundation
import LEMModel
@testable import LanguageModelling
import XCTest

/// lamb's evaluation softmax temperature: the search rule, and the temperature `lm` picks is the
/// one that minimises the loss on the search tokens, checked against the cross-entropies
/// recomputed in Double from the model's logits.
final class LMTemperatureTests: XCTestCase {
    func testSearchRuleStopsAfterTwoPointsWithoutGain() {
        XCTAssertEqual(temperatureGrid.count, 14)
        XCTAssertEqual(temperatureGrid.first!, 1.06, accuracy: 1e-6)
        XCTAssertEqual(temperatureGrid.last!, 0.80, accuracy: 1e-6)
        XCTAssertEqual(lambTemperatureChoice([3, 2, 2.5, 2.6, 1]), 1, "stops at the second point without a gain")
        XCTAssertEqual(lambTemperatureChoice([3, 2, 2.5, 1.5, 1]), 4, "one miss is forgiven")
        XCTAssertEqual(lambTemperatureChoice([1, 2, 3]), 0)
        XCTAssertEqual(lambTemperatureChoice([5, 4, 3, 2, 1]), 4)
    }

    func testSearchPicksTheTemperatureThatMinimisesTheSearchLoss() {
        var config = LanguageModelConfig(vocabularySize: 17, embeddingSize: 8, hiddenSize: 8, tied: true)
        config.cell = .lem
        let model = LanguageModel(config: config)
        var rng = RandomGenerator(seed: 4)
        model.initialize(&rng)
        // A sequence that is 80 % predictable (next = previous + 1), learnt briefly, then made
        // over-confident by larger weights: the best multiplier lies inside the grid.
        var tokens: [Int32] = [0]
        while tokens.count < 600 { tokens.append(rng.below(10) < 8 ? (tokens.last! + 1) % 17 : Int32(rng.below(17))) }
        let adam = Optimizer(settings: OptimizerSettings(kind: .adam), parameterCount: model.parameters.count)
        var trainState = model.initialState(batch: 1)
        for step in 0..<150 {
            let start = (step * 40) % 520
            model.parameters.zeroGrads()
            _ = model.forward(tokens: Array(tokens[start ..< start + 40]), targets: Array(tokens[start + 1 ..< start + 41]), steps: 40, batch: 1,
                          state: &trainState, training: true, rng: &rng)
            model.backward()
            adam.step(model.parameters, learningRate: 0.02)
        }
        for i in 0..<model.parameters.count { model.parameters.values[i] *= 1.1 }

        // Reference: every grid point on the same logits, in Double, over the whole split (600 < 50,000).
        var reference = [Double](repeating: 0, count: temperatureGrid.count)
        var state = model.initialState(batch: 1)
        let inputs = [Int32(0)] + tokens.dropLast(), targets = tokens
        var dropout = RandomGenerator(seed: 0)
        for start in stride(from: 0, to: tokens.count, by: 200) {
            let n = min(200, tokens.count - start)
            _ = model.forward(tokens: Array(inputs[start ..< start + n]), targets: Array(targets[start ..< start + n]), steps: n, batch: 1,
                          state: &state, training: false, rng: &dropout)
            for r in 0..<n {
                let row = (0..<17).map { Double(model.lastLogits[r * 17 + $0]) }
                for (g, s) in temperatureGrid.enumerated() {
                    let scaled = row.map { $0 * Double(s) }
                    let top = scaled.max()!
                    reference[g] += top + log(scaled.map { exp($0 - top) }.reduce(0, +)) - scaled[Int(targets[start + r])]
                }
            }
        }
        let expected = lambTemperatureChoice(reference)
        let got = evaluateWithTemperatureSearch(model, tokens: tokens, context: 0, streams: 1)
        print("temperature search: picked \(got.temperature), expected \(temperatureGrid[expected]) (losses \(reference.map { String(format: "%.3f", $0 / 600) }))")
        XCTAssertEqual(got.temperature, temperatureGrid[expected])
        XCTAssertLessThan(expected, temperatureGrid.count)
        XCTAssertTrue(expected > 0 && expected < temperatureGrid.count - 1, "the best multiplier should lie inside the grid (losses \(reference))")
        XCTAssertEqual(got.loss, reference[expected], accuracy: 1e-5 * reference[expected])
        XCTAssertLessThan(got.loss, evaluate(model, tokens: tokens, context: 0, streams: 1).loss, "the searched temperature beats 1")
    }
}

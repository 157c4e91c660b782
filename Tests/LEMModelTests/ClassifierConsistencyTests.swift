import XCTest
@testable import LEMModel
@testable import Runtime

/// A classifier's logits do not depend on the mode or the batch they are computed in: a training
/// forward without dropout, an evaluation forward, `logits`, and the same sequences in a smaller
/// batch agree, for every cell.
final class ClassifierConsistencyTests: XCTestCase {
    func testLogitsAgreeAcrossModesAndBatches() {
        let (m, d, T, B, C) = (8, 24, 20, 7, 5)
        for cell in CellKind.allCases {
            var config = SequenceClassifierConfig(inputSize: m, hiddenSize: d, classCount: C)
            config.cell = cell
            let model = SequenceClassifier(config: config)
            var rng = RandomGenerator(seed: 21)
            model.initialize(&rng)
            let x = randomArray(T * B * m, &rng)
            let labels = (0..<B).map { Int32($0 % C) }
            let logits = { Array(UnsafeBufferPointer(start: model.lastLogits, count: $0 * C)) }
            var training: [Float] = [], evaluation: [Float] = [], direct: [Float] = [], small: [Float] = []
            x.withUnsafeBufferPointer { xp in
                labels.withUnsafeBufferPointer { lp in
                    _ = model.forward(features: xp.baseAddress!, labels: lp.baseAddress!, steps: T, batch: B, training: true, rng: &rng)
                    model.backward()
                    training = logits(B)
                    _ = model.forward(features: xp.baseAddress!, labels: lp.baseAddress!, steps: T, batch: B, training: false, rng: &rng)
                    evaluation = logits(B)
                    direct = Array(UnsafeBufferPointer(start: model.logits(features: xp.baseAddress!, steps: T, batch: B), count: B * C))
                }
            }
            // The first 3 sequences alone: [T, 3, m] cut from [T, B, m].
            var first3: [Float] = []
            for t in 0..<T { first3 += x[(t * B * m)..<(t * B * m + 3 * m)] }
            first3.withUnsafeBufferPointer { xp in
                small = Array(UnsafeBufferPointer(start: model.logits(features: xp.baseAddress!, steps: T, batch: 3), count: 3 * C))
            }
            let scale = Double(evaluation.map { abs($0) }.max() ?? 1)
            func err(_ a: [Float], _ b: [Float]) -> Double {
                var worst = 0.0
                for (u, v) in zip(a, b) { worst = max(worst, Double(abs(u - v))) }
                return worst / scale
            }
            print("\(cell): max scaled |training − evaluation| \(err(training, evaluation)), |logits − evaluation| \(err(direct, evaluation)), "
                  + "batch 3 against \(B): \(err(small, Array(evaluation.prefix(3 * C)))) (tolerance 1e-5)")
            XCTAssertLessThan(err(training, evaluation), 1e-5, "\(cell): training and evaluation forwards")
            XCTAssertLessThan(err(direct, evaluation), 1e-5, "\(cell): logits()")
            XCTAssertLessThan(err(small, Array(evaluation.prefix(3 * C))), 1e-5, "\(cell): a smaller batch")
        }
    }
}

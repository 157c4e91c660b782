import XCTest
@testable import LEMModel
@testable import Runtime

/// Replicas sharing the parameter values, each on a slice of the batch, with gradients combined
/// by stream counts, give the full-batch gradient (float tolerance: only the summation order differs),
/// with every dropout on: masks are drawn per stream at the replica's stream offset.
final class DataParallelTests: XCTestCase {
    func testReplicaGradientsCombineToTheFullBatchGradient() {
        check(cell: .lem, layers: 1)
    }

    /// Stacks split their state [L, B, d] by streams in every layer.
    func testReplicasOfStackedModels() {
        check(cell: .lem, layers: 2)
        check(cell: .gru, layers: 2)
    }

    func check(cell: CellKind, layers L: Int) {
        var config = LanguageModelConfig(vocabularySize: 13, embeddingSize: 6, hiddenSize: 6, tied: true)
        (config.cell, config.layers) = (cell, L)
        (config.inputDropout, config.outputDropout, config.stateDropout, config.layerDropout) = (0.3, 0.2, 0.2, L > 1 ? 0.25 : 0)
        let model = LanguageModel(config: config)
        var rng = RandomGenerator(seed: 1)
        model.initialize(&rng)
        let (T, B, d) = (5, 5, 6)
        let tokens = (0..<T * B).map { _ in Int32(rng.below(13)) }, targets = (0..<T * B).map { _ in Int32(rng.below(13)) }
        let y0 = randomArray(L * B * d, &rng, scale: 0.3), z0 = cell.hasCellState ? randomArray(L * B * d, &rng, scale: 0.3) : []

        let start = RecurrentState(layers: L, hidden: y0, cell: z0)
        var full = start
        model.parameters.zeroGrads()
        let dropoutRNG = rng
        var fullRNG = dropoutRNG
        let fullLoss = model.forward(tokens: tokens, targets: targets, steps: T, batch: B, state: &full, training: true, rng: &fullRNG)
        model.backward()
        let expected = Array(UnsafeBufferPointer(start: model.parameters.grads, count: model.parameters.count))

        let replica = LanguageModel(config: config, sharing: model)
        XCTAssertEqual(replica.parameters.values, model.parameters.values, "values are shared")
        let ranges = [0..<2, 2..<5]
        var loss = 0.0
        for (w, r) in ranges.enumerated() {
            let part = w == 0 ? model : replica
            part.parameters.zeroGrads()
            let cols = { (x: [Int32]) in (0..<T).flatMap { t in r.map { x[t * B + $0] } } }
            var s = start.streams(r, of: B)
            var partRNG = dropoutRNG
            loss += part.forward(tokens: cols(tokens), targets: cols(targets), steps: T, batch: r.count, state: &s, training: true, rng: &partRNG,
                             firstStream: r.lowerBound)
            part.backward()
            // Equal up to float rounding: with one BLAS thread (a one-core machine, or taskset)
            // the per-step products go through libxsmm, whose kernels for 2 or 3 rows sum in
            // another order than for 5 (bit-equal with OpenBLAS on two threads).
            let (got, want) = (s, full.streams(r, of: B))
            let stateError = scaledMaxError(got.hidden + got.cell, (want.hidden + want.cell).map(Double.init))
            XCTAssertLessThan(stateError, 1e-5, "final state of streams \(r)")
        }
        model.parameters.combineGradients([model.parameters, replica.parameters], weights: [2 / 5, 3 / 5])
        let combined = Array(UnsafeBufferPointer(start: model.parameters.grads, count: model.parameters.count))
        XCTAssertEqual(loss, fullLoss, accuracy: 1e-6 * abs(fullLoss) + 1e-9)
        let err = scaledMaxError(combined, expected.map(Double.init))
        print("data-parallel gradient vs full batch, \(L) × \(cell): max scaled error \(err)")
        XCTAssertLessThan(err, 1e-5)
    }
}

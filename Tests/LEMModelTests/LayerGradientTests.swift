import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// Finite-difference checks of every other layer, each against a Double reference of its own
/// forward pass. Tolerance 1e-5 of the tensor's largest gradient entry.
final class LayerGradientTests: XCTestCase {
    let tolerance = 1e-5

    func assertClose(_ analytic: [Float], _ numeric: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let err = scaledMaxError(analytic, numeric)
        print("\(what): max scaled error \(err) (tolerance \(tolerance))")
        XCTAssertLessThan(err, tolerance, "\(what): max scaled error \(err), tolerance \(tolerance)", file: file, line: line)
    }

    func testLinear() {
        var rng = RandomGenerator(seed: 4)
        var layout = LayoutBuilder()
        Linear.declare(&layout, prefix: "fc.", inputSize: 5, outputSize: 3)
        let block = ParameterBlock(layout)
        let fc = Linear(weight: block.parameter("fc.weight"), bias: block.parameter("fc.bias"))
        defer { withExtendedLifetime(block) {} }   // the layer reads the block through raw pointers
        fc.initialize(&rng)
        let rows = 4
        let x = randomArray(rows * 5, &rng), w = randomArray(rows * 3, &rng)
        var out = [Float](repeating: 0, count: rows * 3), dx = [Float](repeating: 0, count: rows * 5)
        fc.forward(input: x, rows: rows, output: &out)
        fc.backward(input: x, outputGrad: w, rows: rows, inputGrad: &dx)

        func loss(_ W: [Double], _ b: [Double], _ X: [Double]) -> Double {
            var s = 0.0
            for r in 0..<rows { for o in 0..<3 {
                var v = b[o]
                for i in 0..<5 { v += W[o * 5 + i] * X[r * 5 + i] }
                s += v * Double(w[r * 3 + o])
            } }
            return s
        }
        let W = fc.weight.values.map(Double.init), b = fc.bias!.values.map(Double.init), X = x.map(Double.init)
        assertClose(fc.weight.grads, numericalGradient(at: W) { loss($0, b, X) }, "Linear ∂W")
        assertClose(fc.bias!.grads, numericalGradient(at: b) { loss(W, $0, X) }, "Linear ∂b")
        assertClose(dx, numericalGradient(at: X) { loss(W, b, $0) }, "Linear ∂x")
    }

    func testEmbeddingWithTiedDecoder() {
        // tokens → embedding → (tied) decoder; the shared table must receive both gradients.
        var rng = RandomGenerator(seed: 5)
        var layout = LayoutBuilder()
        Embedding.declare(&layout, name: "embedding.weight", vocabularySize: 6, width: 4)
        layout.add("decoder.bias", [6])
        let block = ParameterBlock(layout)
        let emb = Embedding(table: block.parameter("embedding.weight"))
        let dec = Linear(weight: block.parameter("embedding.weight"), bias: block.parameter("decoder.bias"))
        emb.initialize(&rng, range: 0.5)
        block.parameter("decoder.bias").set(randomArray(6, &rng))
        let tokens: [Int32] = [0, 3, 3, 5, 1]
        let w = randomArray(tokens.count * 6, &rng)
        var e = [Float](repeating: 0, count: tokens.count * 4), logits = [Float](repeating: 0, count: tokens.count * 6)
        var de = [Float](repeating: 0, count: tokens.count * 4)
        emb.forward(tokens: tokens, count: tokens.count, output: &e)
        dec.forward(input: e, rows: tokens.count, output: &logits)
        dec.backward(input: e, outputGrad: w, rows: tokens.count, inputGrad: &de)
        emb.backward(tokens: tokens, count: tokens.count, outputGrad: de)

        func loss(_ table: [Double], _ bias: [Double]) -> Double {
            var s = 0.0
            for (n, tok) in tokens.enumerated() { for v in 0..<6 {
                var z = bias[v]
                for j in 0..<4 { z += table[v * 4 + j] * table[Int(tok) * 4 + j] }
                s += z * Double(w[n * 6 + v])
            } }
            return s
        }
        let table = emb.table.values.map(Double.init), bias = block.parameter("decoder.bias").values.map(Double.init)
        assertClose(emb.table.grads, numericalGradient(at: table) { loss($0, bias) }, "tied embedding ∂table")
        assertClose(block.parameter("decoder.bias").grads, numericalGradient(at: bias) { loss(table, $0) }, "decoder ∂b")
    }

    func testSoftmaxCrossEntropy() {
        var rng = RandomGenerator(seed: 6)
        let rows = 5, classes = 7
        // Large logits check the max-subtraction (a naive exp would overflow at 100).
        var logits = randomArray(rows * classes, &rng, scale: 3)
        logits[3] = 100; logits[10] = -100
        let targets: [Int32] = [0, 3, 6, 2, 2]
        let x = logits.map(Double.init)
        func reference(_ x: [Double]) -> Double {
            (0..<rows).reduce(0.0) { s, r in
                let row = x[r * classes ..< (r + 1) * classes]
                let mx = row.max()!
                return s + mx + log(row.map { exp($0 - mx) }.reduce(0, +)) - row[r * classes + Int(targets[r])]
            } / Double(rows)
        }
        var g = logits
        let sum = softmaxCrossEntropy(logits: &g, rows: rows, classes: classes, targets: targets, gradientScale: 1 / Float(rows))
        let expected = reference(x)
        print("softmax cross-entropy: mean \(sum / Double(rows)), reference \(expected)")
        XCTAssertEqual(sum / Double(rows), expected, accuracy: 1e-5 * max(1, abs(expected)))
        assertClose(g, numericalGradient(at: x, h: 1e-5, reference), "softmax cross-entropy ∂logits")
        // Without a gradient the logits are left alone and the loss is the same.
        var unchanged = logits
        XCTAssertEqual(softmaxCrossEntropy(logits: &unchanged, rows: rows, classes: classes, targets: targets, gradientScale: nil), sum, accuracy: 1e-9)
        XCTAssertEqual(unchanged, logits)
    }

    /// The bias gradient summed during the softmax pass equals the column sums of the gradient,
    /// also when the rows are split over the cores and a padding row is skipped.
    func testSoftmaxSumsTheGradientColumns() {
        var rng = RandomGenerator(seed: 13)
        let rows = 300, classes = 1000
        XCTAssertGreaterThan(parallelChunkCount(rows, costPerItem: classes * 8), workerCount > 1 ? 1 : 0)
        var logits = randomArray(rows * classes, &rng, scale: 2)
        var targets = (0..<rows).map { _ in Int32(rng.below(classes)) }
        targets[17] = -1
        var sums = [Float](repeating: 1, count: classes)   // added to, not overwritten
        _ = softmaxCrossEntropy(logits: &logits, rows: rows, classes: classes, targets: targets, gradientScale: 1 / Float(rows),
                                gradientColumnSums: &sums)
        var expected = [Float](repeating: 1, count: classes)
        addColumnSums(logits, rows: rows, columns: classes, stride: classes, into: &expected)
        let worst = zip(sums, expected).map { abs($0 - $1) }.max()!
        // Float sums of 300 terms near 1/300 onto 1, in two orders: a few ulps of 1 each.
        print("softmax column sums: max |difference| \(worst) (tolerance 1e-5)")
        XCTAssertLessThan(worst, 1e-5)
    }

    func testDropoutMasksAndBackward() {
        let (T, B, n) = (4, 3, 50)
        for kind in [Dropout.Kind.plain, .locked] {
            let drop = Dropout(kind, probability: 0.4)
            var streams = StreamGenerators(seed: 7, first: 0, count: B)
            drop.sampleMask(steps: T, batch: B, width: n, streams: &streams)
            var x = [Float](repeating: 1, count: T * B * n)
            drop.apply(&x, steps: T, batch: B, width: n)
            let kept = x.filter { $0 != 0 }
            XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.6) < 1e-6 }, "kept units are scaled by 1/(1−p)")
            let fraction = Double(kept.count) / Double(x.count)
            XCTAssertEqual(fraction, 0.6, accuracy: 0.1)
            if kind == .locked {
                for t in 1..<T { XCTAssertEqual(Array(x[t * B * n ..< (t + 1) * B * n]), Array(x[0 ..< B * n]), "locked mask shared across time") }
            }
            // Backward is the same multiplication: ∂x = ∂y ⊙ mask, the exact derivative of a linear map.
            var g = [Float](repeating: 2, count: T * B * n)
            drop.apply(&g, steps: T, batch: B, width: n)
            XCTAssertEqual(g, x.map { $0 * 2 })
        }
    }

    func testFreshMaskWithoutStorageEqualsSampleThenApply() {
        let drop = Dropout(.plain, probability: 0.3)
        var rng = RandomGenerator(seed: 11)
        let source = randomArray(1000, &rng)
        var sampled = source, fresh = [Float](repeating: .nan, count: 1000)
        var streamsA = StreamGenerators(seed: 12, first: 0, count: 10), streamsB = streamsA
        drop.sampleMask(steps: 10, batch: 10, width: 10, streams: &streamsA)
        drop.apply(&sampled, steps: 10, batch: 10, width: 10)
        drop.applyFreshMask(source, into: &fresh, steps: 10, batch: 10, width: 10, streams: &streamsB)
        XCTAssertEqual(fresh, sampled)
        XCTAssertEqual(streamsA.generators, streamsB.generators, "the same number of draws")
    }

    /// A mask drawn for a whole batch equals the masks drawn for its two halves by generators
    /// placed at their global stream offsets: how replicas and MPI ranks split a batch.
    func testStreamMasksDoNotDependOnTheSplit() {
        let (T, B, n) = (3, 6, 7)
        for kind in [Dropout.Kind.plain, .locked] {
            let whole = Dropout(kind, probability: 0.5), half = Dropout(kind, probability: 0.5)
            var all = StreamGenerators(seed: 99, first: 0, count: B)
            whole.sampleMask(steps: T, batch: B, width: n, streams: &all)
            let rows = kind == .locked ? 1 : T
            let full = Array(UnsafeBufferPointer(start: whole.mask!, count: rows * B * n))
            for (first, count) in [(0, 2), (2, 4)] {
                var part = StreamGenerators(seed: 99, first: first, count: count)
                half.sampleMask(steps: T, batch: count, width: n, streams: &part)
                for t in 0..<rows {
                    for b in 0..<count {
                        let got = Array(UnsafeBufferPointer(start: half.mask! + (t * count + b) * n, count: n))
                        XCTAssertEqual(got, Array(full[((t * B) + first + b) * n ..< ((t * B) + first + b + 1) * n]), "\(kind) t \(t) stream \(first + b)")
                    }
                }
            }
        }
    }

    func testLastStepClassifier() {
        var rng = RandomGenerator(seed: 8)
        var layout = LayoutBuilder()
        Linear.declare(&layout, prefix: "classifier.", inputSize: 4, outputSize: 3)
        let block = ParameterBlock(layout)
        let head = LastStepClassifier(linear: Linear(weight: block.parameter("classifier.weight"), bias: block.parameter("classifier.bias")))
        defer { withExtendedLifetime(block) {} }   // the layer reads the block through raw pointers
        head.linear.initialize(&rng)
        let B = 5
        let y = randomArray(B * 4, &rng)
        let labels: [Int32] = [0, 2, 1, 1, 0]
        head.forward(finalHidden: y, batch: B)
        let total = head.loss(labels: labels, training: true)
        var dy = [Float](repeating: 0, count: B * 4)
        head.backward(finalHiddenGrad: &dy)
        func meanLoss(_ W: [Double], _ b: [Double], _ Y: [Double]) -> Double {
            var s = 0.0
            for r in 0..<B {
                let z = (0..<3).map { o in b[o] + (0..<4).reduce(0.0) { $0 + W[o * 4 + $1] * Y[r * 4 + $1] } }
                let mx = z.max()!
                s += mx + log(z.map { exp($0 - mx) }.reduce(0, +)) - z[Int(labels[r])]
            }
            return s / Double(B)
        }
        let W = head.linear.weight.values.map(Double.init), b = head.linear.bias!.values.map(Double.init), Y = y.map(Double.init)
        XCTAssertEqual(total / Double(B), meanLoss(W, b, Y), accuracy: 1e-5)
        assertClose(head.linear.weight.grads, numericalGradient(at: W) { meanLoss($0, b, Y) }, "classifier ∂W")
        assertClose(head.linear.bias!.grads, numericalGradient(at: b) { meanLoss(W, $0, Y) }, "classifier ∂b")
        assertClose(dy, numericalGradient(at: Y) { meanLoss(W, b, $0) }, "classifier ∂y_T")
    }

    /// The regression head of `seq` (heart rate, FitzHugh-Nagumo): Linear(y_T) → K outputs, mean
    /// squared error over the B·K outputs (PyTorch's `nn.MSELoss()`), against its Double gradient.
    /// A read-out of 4 hidden values into `outputs`, initialised as nn.Linear from `seed`, with the
    /// parameter block that holds its tensors (keep it alive while the head is used).
    func regressionHead(outputs: Int, seed: UInt64) -> (LastStepRegressor, ParameterBlock, RandomGenerator) {
        var rng = RandomGenerator(seed: seed)
        var layout = LayoutBuilder()
        Linear.declare(&layout, prefix: "readout.", inputSize: 4, outputSize: outputs)
        let block = ParameterBlock(layout)
        let head = LastStepRegressor(linear: Linear(weight: block.parameter("readout.weight"), bias: block.parameter("readout.bias")))
        head.linear.initialize(&rng)
        return (head, block, rng)
    }

    func testLastStepRegressor() {
        var (head, block, rng) = regressionHead(outputs: 2, seed: 9)
        defer { withExtendedLifetime(block) {} }
        let B = 5
        let y = randomArray(B * 4, &rng)
        let targets = randomArray(B * 2, &rng)
        head.forward(finalHidden: y, batch: B)
        let total = head.loss(targets: targets, training: true)
        var dy = [Float](repeating: 0, count: B * 4)
        head.backward(finalHiddenGrad: &dy)
        func meanLoss(_ W: [Double], _ b: [Double], _ Y: [Double]) -> Double {
            var s = 0.0
            for r in 0..<B {
                for o in 0..<2 {
                    let p = b[o] + (0..<4).reduce(0.0) { $0 + W[o * 4 + $1] * Y[r * 4 + $1] }
                    s += (p - Double(targets[r * 2 + o])) * (p - Double(targets[r * 2 + o]))
                }
            }
            return s / Double(B * 2)
        }
        let W = head.linear.weight.values.map(Double.init), b = head.linear.bias!.values.map(Double.init), Y = y.map(Double.init)
        XCTAssertEqual(total / Double(B * 2), meanLoss(W, b, Y), accuracy: 1e-5)
        assertClose(head.linear.weight.grads, numericalGradient(at: W) { meanLoss($0, b, Y) }, "readout ∂W")
        assertClose(head.linear.bias!.grads, numericalGradient(at: b) { meanLoss(W, $0, Y) }, "readout ∂b")
        assertClose(dy, numericalGradient(at: Y) { meanLoss(W, b, $0) }, "readout ∂y_T")
    }

    /// The same head read as K logits per row (`seq online --classes`): the mean over the rows of
    /// −log softmax[class], against its Double gradient.
    func testLastStepRegressorCrossEntropy() {
        var (head, block, rng) = regressionHead(outputs: 3, seed: 10)
        defer { withExtendedLifetime(block) {} }
        let B = 5
        let y = randomArray(B * 4, &rng)
        let classes: [Float] = [0, 2, 1, 2, 0]
        head.forward(finalHidden: y, batch: B)
        let total = head.crossEntropy(classes: classes, training: true)
        var dy = [Float](repeating: 0, count: B * 4)
        head.backward(finalHiddenGrad: &dy)
        func meanLoss(_ W: [Double], _ b: [Double], _ Y: [Double]) -> Double {
            var s = 0.0
            for r in 0..<B {
                let z = (0..<3).map { o in b[o] + (0..<4).reduce(0.0) { $0 + W[o * 4 + $1] * Y[r * 4 + $1] } }
                s += log(z.map { exp($0) }.reduce(0, +)) - z[Int(classes[r])]
            }
            return s / Double(B)
        }
        let W = head.linear.weight.values.map(Double.init), b = head.linear.bias!.values.map(Double.init), Y = y.map(Double.init)
        XCTAssertEqual(total / Double(B), meanLoss(W, b, Y), accuracy: 1e-5)
        assertClose(head.linear.weight.grads, numericalGradient(at: W) { meanLoss($0, b, Y) }, "readout ∂W (cross-entropy)")
        assertClose(head.linear.bias!.grads, numericalGradient(at: b) { meanLoss(W, $0, Y) }, "readout ∂b (cross-entropy)")
        assertClose(dy, numericalGradient(at: Y) { meanLoss(W, b, $0) }, "readout ∂y_T (cross-entropy)")
    }

    func testWeightDecayIsTheGradientOfTheL2Penalty() {
        // Adam/SGD add λw to the gradient: the derivative of (λ/2)‖w‖². One SGD step with zero loss
        // gradient must therefore move w to (1 − lr·λ)w exactly.
        var layout = LayoutBuilder()
        layout.add("w", [10])
        let block = ParameterBlock(layout)
        let w = block.parameter("w")
        w.set((0..<10).map { Float($0) - 4.5 })
        var settings = OptimizerSettings(kind: .sgd, weightDecay: 0.01)
        settings.momentum = 0
        let sgd = Optimizer(settings: settings, parameterCount: block.count)
        block.zeroGrads()
        sgd.step(block, learningRate: 0.5)
        let expected = (0..<10).map { (Double($0) - 4.5) * (1 - 0.5 * 0.01) }
        let err = zip(w.values, expected).map { abs(Double($0) - $1) }.max()!
        XCTAssertLessThan(err, 1e-6, "one decayed SGD step: max |error| \(err)")
    }
}

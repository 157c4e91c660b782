import XCTest
@testable import LEMModel
@testable import Runtime

/// Finite-difference checks of the LEM layer: the Float analytic gradients against central
/// differences of an independent Double implementation (`ReferenceLEM`).
///
/// Loss: L = Σ w_out ⊙ y_{1…T} + Σ w_y ⊙ y_T + Σ w_z ⊙ z_T with random weights, so every output
/// step and the final state feed the gradient. Tolerance: 2e-5 of each tensor's largest entry
/// (Float accumulation over T = 20 steps; the Double differences themselves are good to ~1e-9).
final class LEMGradientTests: XCTestCase {
    let tolerance = 2e-5

    /// `perGateProducts`: force the per-step hid2hid products gate by gate (true) or as one call
    /// (false); nil leaves the layer's own choice (per gate at these small sizes).
    /// `chunkRows`: accumulate the weight gradients every this many rows (nil: the layer's choice).
    /// `weightCopies`: force whether several steps use copies of the weights (nil: the layer's choice).
    func checkLEM(m: Int, d: Int, T: Int, B: Int, dt: Float, stateDropout: Bool, seed: UInt64, perGateProducts: Bool? = nil,
                  chunkRows: Int? = nil, weightCopies: Bool? = nil) {
        var rng = RandomGenerator(seed: seed)
        let config = LEMConfig(inputSize: m, hiddenSize: d, dt: dt)
        var layout = LayoutBuilder()
        LEMLayer.declare(&layout, prefix: "lem.", config: config)
        let block = ParameterBlock(layout)
        let lem = LEMLayer(config: config, parameters: block, prefix: "lem.")
        lem.initialize(&rng)
        lem.perGateProductsOverride = perGateProducts
        lem.weightGradientChunkRowsOverride = chunkRows
        lem.weightCopiesOverride = weightCopies
        // Larger weights than the default init so the gates use their whole range.
        for i in 0..<block.count { block.values[i] *= 2.5 }

        let input = randomArray(T * B * m, &rng)
        let y0 = randomArray(B * d, &rng, scale: 0.5), z0 = randomArray(B * d, &rng, scale: 0.5)
        let wOut = randomArray(T * B * d, &rng), wY = randomArray(B * d, &rng), wZ = randomArray(B * d, &rng)
        var mask: [Float]? = nil
        if stateDropout {
            var m = [Float](repeating: 0, count: B * d)
            fillDropoutMask(&m, count: B * d, probability: 0.3, rng: &rng)
            mask = m
        }

        // Analytic gradients (Float).
        block.zeroGrads()
        var dInput = [Float](repeating: 0, count: T * B * m)
        var dY0 = [Float](repeating: 0, count: B * d), dZ0 = [Float](repeating: 0, count: B * d)
        lem.forward(input: input, steps: T, batch: B, initialHidden: y0, initialCell: z0, stateMask: mask)
        let floatOutputs = Array(UnsafeBufferPointer(start: lem.outputs, count: T * B * d))
        lem.backward(outputGrad: wOut, finalHiddenGrad: wY, finalCellGrad: wZ, inputGrad: &dInput, initialHiddenGrad: &dY0, initialCellGrad: &dZ0)

        // Double reference and its numerical gradients.
        let names = ReferenceLEM.parameterNames
        var reference = ReferenceLEM(m: m, d: d, dt: Double(dt), inp2hidW: [], inp2hidB: [], hid2hidW: [], hid2hidB: [], transformW: [], transformB: [])
        reference.flatParameters = names.map { block.parameter("lem." + $0).values.map(Double.init) }
        let (dIn, dy0, dz0) = (input.map(Double.init), y0.map(Double.init), z0.map(Double.init))
        let dMask = mask?.map(Double.init)
        func loss(_ r: ReferenceLEM, _ u: [Double], _ y: [Double], _ z: [Double]) -> Double {
            let (out, yT, zT) = r.forward(u, T: T, B: B, y0: y, z0: z, mask: dMask)
            var s = 0.0
            for i in out.indices { s += out[i] * Double(wOut[i]) }
            for i in yT.indices { s += yT[i] * Double(wY[i]) + zT[i] * Double(wZ[i]) }
            return s
        }
        let refOut = reference.forward(dIn, T: T, B: B, y0: dy0, z0: dz0, mask: dMask).outputs
        let forwardError = scaledMaxError(floatOutputs, refOut)
        XCTAssertLessThan(forwardError, 1e-5, "forward outputs differ from the Double reference")

        var report: [String] = ["forward outputs: \(forwardError)"]
        for (k, name) in names.enumerated() {
            let numeric = numericalGradient(at: reference.flatParameters[k]) { p in
                var r = reference; r.flatParameters[k] = p; return loss(r, dIn, dy0, dz0)
            }
            let err = scaledMaxError(block.parameter("lem." + name).grads, numeric)
            report.append("\(name): \(err)")
            XCTAssertLessThan(err, tolerance, "∂L/∂\(name): max scaled error \(err), tolerance \(tolerance)")
        }
        let checks: [(String, [Float], [Double])] = [
            ("input", dInput, numericalGradient(at: dIn) { loss(reference, $0, dy0, dz0) }),
            ("y0", dY0, numericalGradient(at: dy0) { loss(reference, dIn, $0, dz0) }),
            ("z0", dZ0, numericalGradient(at: dz0) { loss(reference, dIn, dy0, $0) }),
        ]
        for (name, analytic, numeric) in checks {
            let err = scaledMaxError(analytic, numeric)
            report.append("\(name): \(err)")
            XCTAssertLessThan(err, tolerance, "∂L/∂\(name): max scaled error \(err), tolerance \(tolerance)")
        }
        print("LEM gradient check m=\(m) d=\(d) T=\(T) B=\(B) dt=\(dt) stateDropout=\(stateDropout) perGateProducts=\(lem.perGateProducts) chunk=\(lem.weightGradientChunk(steps: T, batch: B)) steps: max scaled errors " + report.joined(separator: ", "))
    }

    func testGradientsOverTwentyStepsWithInitialState() {
        checkLEM(m: 3, d: 4, T: 20, B: 2, dt: 0.6, stateDropout: false, seed: 1)
    }

    func testGradientsWithUnitTimeStep() {
        checkLEM(m: 2, d: 3, T: 24, B: 3, dt: 1.0, stateDropout: false, seed: 2)
    }

    func testGradientsWithLockedStateDropout() {
        checkLEM(m: 3, d: 4, T: 20, B: 2, dt: 0.8, stateDropout: true, seed: 3)
    }

    /// From 16 sequences on, small layers project their input step by step (kws training).
    func testGradientsWithTheInputProjectedStepByStep() {
        checkLEM(m: 3, d: 4, T: 5, B: 16, dt: 0.9, stateDropout: true, seed: 7, chunkRows: 32)
    }

    /// One sequence through a large layer (exact char evaluation) uses the weights without copies.
    func testGradientsOfOneSequenceWithoutWeightCopies() {
        checkLEM(m: 3, d: 4, T: 20, B: 1, dt: 0.7, stateDropout: true, seed: 8, weightCopies: false)
    }

    /// A single step (sampling's shape) reads the weights in place instead of reordered copies.
    func testGradientsOfASingleStep() {
        checkLEM(m: 3, d: 4, T: 1, B: 2, dt: 0.7, stateDropout: false, seed: 4)
        checkLEM(m: 3, d: 4, T: 1, B: 2, dt: 0.7, stateDropout: true, seed: 5, perGateProducts: false)
    }

    /// Weight gradients accumulated chunk by chunk during backward (kws) rather than at the end;
    /// 20 steps in chunks of 3 leave a partial chunk.
    func testGradientsAccumulatedInChunks() {
        checkLEM(m: 3, d: 4, T: 20, B: 2, dt: 0.6, stateDropout: false, seed: 1, chunkRows: 6)
        checkLEM(m: 3, d: 4, T: 20, B: 2, dt: 0.8, stateDropout: true, seed: 3, chunkRows: 2)
    }

    /// Large layers (word, char) run each step's hid2hid product as one call; small ones gate by gate.
    func testGradientsWithOneHiddenProductPerStep() {
        checkLEM(m: 3, d: 4, T: 20, B: 2, dt: 0.6, stateDropout: false, seed: 1, perGateProducts: false)
        checkLEM(m: 3, d: 4, T: 20, B: 2, dt: 0.8, stateDropout: true, seed: 3, perGateProducts: false)
    }

    func testRepeatedForwardBackwardGivesTheSameGradients() {
        // The workspace is reused: a second pass over a shorter sequence must not see stale data.
        let config = LEMConfig(inputSize: 2, hiddenSize: 3)
        var layout = LayoutBuilder()
        LEMLayer.declare(&layout, prefix: "", config: config)
        let block = ParameterBlock(layout)
        let lem = LEMLayer(config: config, parameters: block, prefix: "")
        var rng = RandomGenerator(seed: 9)
        lem.initialize(&rng)
        let long = randomArray(10 * 2 * 2, &rng), short = Array(long.prefix(4 * 2 * 2))
        func grads(_ u: [Float], _ T: Int) -> [Float] {
            block.zeroGrads()
            lem.forward(input: u, steps: T, batch: 2)
            lem.backward(outputGrad: [Float](repeating: 1, count: T * 2 * 3))
            return Array(UnsafeBufferPointer(start: block.grads, count: block.count))
        }
        let first = grads(short, 4)
        _ = grads(long, 10)
        XCTAssertEqual(grads(short, 4), first)
    }
}

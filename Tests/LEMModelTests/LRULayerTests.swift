import Foundation
import XCTest
@testable import LEMModel
@testable import Runtime

/// The LRU layer against the paper's equations: parity with a PyTorch reference written from the
/// paper (tools/reference/make_lru_fixtures.py, complex tensors and autograd, float64, its
/// gradients checked by finite differences), finite differences of our backward against an
/// independent Double implementation at larger sizes, and the initialisation's ring.
final class LRULayerTests: XCTestCase {
    func layer(T: Int, B: Int, H: Int, N: Int) -> (LRULayer, ParameterBlock) {
        var layout = LayoutBuilder()
        LRULayer.declare(&layout, prefix: "layers.0.lru.", width: H, stateSize: N)
        let block = ParameterBlock(layout)
        return (LRULayer(parameters: block, prefix: "layers.0.lru.", width: H, stateSize: N), block)
    }

    /// Output, final state and every gradient against PyTorch; criterion |Δ| ≤ 1e-5 + 1e-4·|ref|.
    func testMatchesThePyTorchReference() throws {
        let f = try SafeTensorsFile.read(path: ReferenceParityTests.fixtures.appendingPathComponent("lru_layer.safetensors").path)
        let (T, B, H, N) = (Int(f.metadata["T"]!)!, Int(f.metadata["B"]!)!, Int(f.metadata["H"]!)!, Int(f.metadata["N"]!)!)
        let (lru, block) = layer(T: T, B: B, H: H, N: N)
        try block.load(from: f)
        let input = try f.floats("input"), h0 = try f.floats("h0")
        lru.forward(input: input, steps: T, batch: B, initialState: h0)
        print("LRU vs PyTorch (T \(T), B \(B), H \(H), N \(N)):")
        compareToReference(Array(UnsafeBufferPointer(start: lru.outputs, count: T * B * H)), try f.floats("output"), "output")
        compareToReference(Array(UnsafeBufferPointer(start: lru.finalStates, count: B * 2 * N)), try f.floats("h_n"), "h_n")
        block.zeroGrads()
        var dx = [Float](repeating: .nan, count: T * B * H), dh0 = [Float](repeating: .nan, count: B * 2 * N)
        let wOut = try f.floats("loss_weight.output"), wH = try f.floats("loss_weight.h_n")
        lru.backward(outputGrad: wOut, finalStateGrad: wH, inputGrad: &dx, initialStateGrad: &dh0)
        compareToReference(dx, try f.floats("grad.input"), "grad input")
        compareToReference(dh0, try f.floats("grad.h0"), "grad h0")
        for name in ["nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D"] {
            let p = block.parameter("layers.0.lru." + name)
            compareToReference(Array(UnsafeBufferPointer(start: p.grad, count: p.count)), try f.floats("grad.layers.0.lru." + name), "grad " + name)
        }
    }

    /// The paper's equations in Double, written again (real arithmetic on re/im pairs).
    struct Reference {
        var nu: [Double], theta: [Double], gammaLog: [Double], bRe: [Double], bIm: [Double], cRe: [Double], cIm: [Double], d: [Double]
        let H: Int, N: Int

        /// L = Σ wOut ⊙ y + Σ wLast ⊙ y_T + Σ wState ⊙ h_T.
        func loss(_ x: [Double], _ h0: [Double], T: Int, B: Int, wOut: [Double], wLast: [Double], wState: [Double]) -> Double {
            var total = 0.0
            for b in 0..<B {
                var re = (0..<N).map { h0[b * 2 * N + $0] }, im = (0..<N).map { h0[b * 2 * N + N + $0] }
                for t in 0..<T {
                    let xt = Array(x[((t * B + b) * H)..<((t * B + b + 1) * H)])
                    for i in 0..<N {
                        let r = exp(-exp(nu[i])), phase = exp(theta[i]), g = exp(gammaLog[i])
                        let (lr, li) = (r * cos(phase), r * sin(phase))
                        var ur = 0.0, ui = 0.0
                        for k in 0..<H { ur += bRe[i * H + k] * xt[k]; ui += bIm[i * H + k] * xt[k] }
                        (re[i], im[i]) = (lr * re[i] - li * im[i] + g * ur, lr * im[i] + li * re[i] + g * ui)
                    }
                    for k in 0..<H {
                        var y = d[k] * xt[k]
                        for i in 0..<N { y += cRe[k * N + i] * re[i] - cIm[k * N + i] * im[i] }
                        total += y * wOut[(t * B + b) * H + k]
                        if t == T - 1 { total += y * wLast[b * H + k] }
                    }
                }
                for i in 0..<N { total += re[i] * wState[b * 2 * N + i] + im[i] * wState[b * 2 * N + N + i] }
            }
            return total
        }
    }

    /// Our backward against central differences of the Double reference, every parameter, the
    /// input and the initial state, with all three gradient inputs (every step, the last step's
    /// output, the final state).
    func testGradientsMatchFiniteDifferencesOfADoubleReference() throws {
        let (T, B, H, N) = (9, 3, 4, 5)
        let (lru, block) = layer(T: T, B: B, H: H, N: N)
        var rng = RandomGenerator(seed: 21)
        lru.initialize(&rng, ring: .init(rMin: 0.4, rMax: 0.97, maxPhase: 6.28))
        let x = (0..<(T * B * H)).map { _ in rng.normal() }, h0 = (0..<(B * 2 * N)).map { _ in 0.5 * rng.normal() }
        let wOut = (0..<(T * B * H)).map { _ in rng.normal() }, wLast = (0..<(B * H)).map { _ in rng.normal() }
        let wState = (0..<(B * 2 * N)).map { _ in rng.normal() }
        lru.forward(input: x, steps: T, batch: B, initialState: h0)
        block.zeroGrads()
        var dx = [Float](repeating: .nan, count: x.count), dh0 = [Float](repeating: .nan, count: h0.count)
        lru.backward(outputGrad: wOut, finalOutputGrad: wLast, finalStateGrad: wState, inputGrad: &dx, initialStateGrad: &dh0)

        let names = ["nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D"]
        let value = { (name: String) in let p = block.parameter("layers.0.lru." + name); return Array(UnsafeBufferPointer(start: p.value, count: p.count)).map(Double.init) }
        var reference = Reference(nu: value("nu_log"), theta: value("theta_log"), gammaLog: value("gamma_log"), bRe: value("B_re"), bIm: value("B_im"),
                                  cRe: value("C_re"), cIm: value("C_im"), d: value("D"), H: H, N: N)
        var xd = x.map(Double.init), h0d = h0.map(Double.init)
        let (wo, wl, ws) = (wOut.map(Double.init), wLast.map(Double.init), wState.map(Double.init))
        // The forward pass agrees with the reference's loss.
        var ours = 0.0
        for i in 0..<(T * B * H) { ours += Double(lru.outputs[i]) * wo[i] }
        for i in 0..<(B * H) { ours += Double(lru.outputs[(T - 1) * B * H + i]) * wl[i] }
        for i in 0..<(B * 2 * N) { ours += Double(lru.finalStates[i]) * ws[i] }
        let exact = reference.loss(xd, h0d, T: T, B: B, wOut: wo, wLast: wl, wState: ws)
        print(String(format: "LRU loss: ours %.9f, Double reference %.9f, |Δ| %.2e (tolerance 1e-4)", ours, exact, abs(ours - exact)))
        XCTAssertEqual(ours, exact, accuracy: 1e-4)

        let step = 1e-6
        var worst = 0.0
        func check(_ what: String, _ analytic: [Float], _ perturb: (Int, Double) -> Void) {
            for i in analytic.indices {
                perturb(i, step)
                let plus = reference.loss(xd, h0d, T: T, B: B, wOut: wo, wLast: wl, wState: ws)
                perturb(i, -2 * step)
                let minus = reference.loss(xd, h0d, T: T, B: B, wOut: wo, wLast: wl, wState: ws)
                perturb(i, step)
                let numeric = (plus - minus) / (2 * step)
                let error = abs(Double(analytic[i]) - numeric) / max(abs(numeric), 1e-2)
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-3, "\(what)[\(i)]: ours \(analytic[i]), finite differences \(numeric)")
            }
        }
        let grad = { (name: String) in let p = block.parameter("layers.0.lru." + name); return Array(UnsafeBufferPointer(start: p.grad, count: p.count)) }
        check("nu_log", grad("nu_log")) { reference.nu[$0] += $1 }
        check("theta_log", grad("theta_log")) { reference.theta[$0] += $1 }
        check("gamma_log", grad("gamma_log")) { reference.gammaLog[$0] += $1 }
        check("B_re", grad("B_re")) { reference.bRe[$0] += $1 }
        check("B_im", grad("B_im")) { reference.bIm[$0] += $1 }
        check("C_re", grad("C_re")) { reference.cRe[$0] += $1 }
        check("C_im", grad("C_im")) { reference.cIm[$0] += $1 }
        check("D", grad("D")) { reference.d[$0] += $1 }
        check("input", dx) { xd[$0] += $1 }
        check("h0", dh0) { h0d[$0] += $1 }
        print(String(format: "LRU gradients vs central differences of the Double reference (%d parameters, input, h0): worst relative error %.2e (tolerance 1e-3)",
                     names.count, worst))
    }

    /// The initialisation puts λ on the ring with γ = √(1 − |λ|²), and the matrices at the paper's scales.
    func testInitialisationIsThePapersRing() {
        let (H, N) = (64, 4000)
        let (lru, block) = layer(T: 1, B: 1, H: H, N: N)
        var rng = RandomGenerator(seed: 3)
        lru.initialize(&rng, ring: .init(rMin: 0.9, rMax: 0.999, maxPhase: 0.314))
        let p = { (name: String) in block.parameter("layers.0.lru." + name) }
        var radii: [Double] = []
        for i in 0..<N {
            let r = exp(-exp(Double(p("nu_log").value[i]))), phase = exp(Double(p("theta_log").value[i]))
            XCTAssertTrue(r >= 0.9 - 1e-6 && r <= 0.999 + 1e-6, "|λ| \(r)")
            XCTAssertTrue(phase > 0 && phase <= 0.314 + 1e-6, "phase \(phase)")
            XCTAssertEqual(exp(Double(p("gamma_log").value[i])), (1 - r * r).squareRoot(), accuracy: 1e-4)
            radii.append(r)
        }
        // Uniform on the ring: |λ|² is uniform in [r_min², r_max²], so its mean is their midpoint.
        let meanSquare = radii.map { $0 * $0 }.reduce(0, +) / Double(N), expected = (0.81 + 0.998001) / 2
        let std = { (name: String, count: Int) -> Double in
            let v = UnsafeBufferPointer(start: p(name).value, count: count).map(Double.init)
            return (v.map { $0 * $0 }.reduce(0, +) / Double(count)).squareRoot()
        }
        print(String(format: "LRU init: mean |λ|² %.4f (expected %.4f); std B_re %.4f (1/√(2H) = %.4f), C_re %.4f (1/√N = %.4f), D %.3f (1)",
                     meanSquare, expected, std("B_re", N * H), 1 / (2.0 * Double(H)).squareRoot(), std("C_re", N * H), 1 / Double(N).squareRoot(), std("D", H)))
        XCTAssertEqual(meanSquare, expected, accuracy: 0.005)
        XCTAssertEqual(std("B_re", N * H), 1 / (2.0 * Double(H)).squareRoot(), accuracy: 0.002)
        XCTAssertEqual(std("C_im", N * H), 1 / Double(N).squareRoot(), accuracy: 0.0005)
    }
}

/// LRU blocks as `--cell lru` stacks them (`CellKind.lru`: names, encoder, LayerNorm, GELU,
/// GLU, the skip, the dropout mask, the complex state in the cell-state slot), against PyTorch:
/// outputs, final outputs and states, every gradient. Criterion |Δ| ≤ 1e-5 + 1e-4·|ref|. The
/// widths take every path of the layers' 16-lane passes (partial, half and full chunks).
final class LRUBlockTests: XCTestCase {
    func testTwoBlocksMatchThePyTorchReference() throws { try checkBlocks("lru_2blocks.safetensors") }         // H 6, N 3
    func testFullAndHalfChunksMatchThePyTorchReference() throws { try checkBlocks("lru_2blocks_h16.safetensors") }   // H 16, N 8
    func testMixedChunksMatchThePyTorchReference() throws { try checkBlocks("lru_block_h40.safetensors") }       // H 40, N 20

    func checkBlocks(_ fixture: String) throws {
        let f = try SafeTensorsFile.read(path: ReferenceParityTests.fixtures.appendingPathComponent(fixture).path)
        let (T, B, m, H, L) = (Int(f.metadata["T"]!)!, Int(f.metadata["B"]!)!, Int(f.metadata["m"]!)!, Int(f.metadata["H"]!)!, Int(f.metadata["layers"]!)!)
        var layout = LayoutBuilder()
        for k in 0..<L { CellKind.lru.declare(&layout, layer: k, inputSize: k == 0 ? m : H, hiddenSize: H, dt: 1) }
        let block = ParameterBlock(layout)
        try block.load(from: f)
        XCTAssertEqual(Set(block.specs.map(\.name)), Set(f.tensors.keys.filter { $0.hasPrefix("encoder.") || $0.hasPrefix("layers.") }),
                       "the checkpoint names are the PyTorch module's")
        let layers = (0..<L).map { CellKind.lru.makeLayer(parameters: block, layer: $0, inputSize: $0 == 0 ? m : H, hiddenSize: H, dt: 1) }
        let input = try f.floats("input"), c0 = try f.floats("c0"), masks = try f.floats("masks")
        let bh = B * H
        var x = input
        for (k, layer) in layers.enumerated() {
            let c = Array(c0[(k * bh)..<((k + 1) * bh)]), mask = Array(masks[(k * bh)..<((k + 1) * bh)])
            layer.forward(input: x, steps: T, batch: B, initialHidden: nil, initialCell: c, stateMask: mask, inputStaysValid: false)
            x = Array(UnsafeBufferPointer(start: layer.outputs, count: T * bh))
        }
        print("\(L) LRU block(s) vs PyTorch (T \(T), B \(B), m \(m), H \(H)):")
        compareToReference(x, try f.floats("output"), "output")
        compareToReference(layers.flatMap { Array(UnsafeBufferPointer(start: $0.finalHidden, count: bh)) }, try f.floats("h_n"), "h_n")
        compareToReference(layers.flatMap { Array(UnsafeBufferPointer(start: $0.finalCell!, count: bh)) }, try f.floats("c_n"), "c_n")
        block.zeroGrads()
        let wOut = try f.floats("loss_weight.output"), wH = try f.floats("loss_weight.h_n"), wC = try f.floats("loss_weight.c_n")
        var grad = wOut
        var dc0 = [Float](repeating: .nan, count: L * bh)
        for k in stride(from: L - 1, through: 0, by: -1) {
            var below = [Float](repeating: .nan, count: T * B * (k == 0 ? m : H))
            var dc = [Float](repeating: .nan, count: bh)
            layers[k].backward(outputGrad: grad, finalHiddenGrad: Array(wH[(k * bh)..<((k + 1) * bh)]), finalCellGrad: Array(wC[(k * bh)..<((k + 1) * bh)]),
                               inputGrad: &below, initialHiddenGrad: nil, initialCellGrad: &dc)
            for j in 0..<bh { dc0[k * bh + j] = dc[j] }
            grad = below
        }
        compareToReference(grad, try f.floats("grad.input"), "grad input")
        compareToReference(dc0, try f.floats("grad.c0"), "grad c0")
        for spec in block.specs {
            let p = block.parameter(spec.name)
            compareToReference(Array(UnsafeBufferPointer(start: p.grad, count: p.count)), try f.floats("grad." + spec.name), "grad " + spec.name)
        }
    }
}

import Foundation
import LEMModel

/// A checkpoint's tensors by name: shape and row-major float values (an int8 checkpoint gives its
/// dequantized weights).
public typealias TensorLookup = (String) throws -> (shape: [Int], values: [Float])

/// The recurrent layers of a model, as they are stored in a checkpoint (`CellKind` names them).
public struct RecurrentStackSpec: Sendable {
    public var cell: CellKind
    public var layers: Int
    public var inputSize: Int
    public var hiddenSize: Int
    /// The LEM's Δt.
    public var dt: Float

    public init(cell: CellKind, layers: Int, inputSize: Int, hiddenSize: Int, dt: Float) {
        (self.cell, self.layers, self.inputSize, self.hiddenSize, self.dt) = (cell, layers, inputSize, hiddenSize, dt)
    }
}

/// What the stack's nodes produce.
struct StackValues {
    /// The top layer's outputs at every step, [T, B, d].
    var outputs: String
    /// The top layer's hidden state after the last step, [B, d] (LEM's y, LSTM's/GRU's h).
    var lastHidden: String
    /// Every layer's final hidden state, [L, B, d].
    var finalY: String
    /// Every layer's final cell state (LEM's z, LSTM's c), [L, B, d]; nil for the GRU.
    var finalZ: String?
}

extension GraphBuilder {
    /// Adds the layers of `spec` over `input` ([T, B, m], time-major), starting from the states
    /// `stateY` / `stateZ` ([L, B, d]; `stateZ` nil for the GRU).
    ///
    /// - LEM: the input projection of all steps is one `MatMul` ([T, B, m] × [m, 4d]); the
    ///   recurrence is a `Scan` whose body does the two dependent products and the gate math of one
    ///   step, exactly the equations of docs/MODEL.md (z first, then y from the new z).
    /// - LSTM, GRU: ONNX's own `LSTM` / `GRU` operators, with the gate blocks reordered from
    ///   PyTorch's (i, f, g, o → i, o, f, c; r, z, n → z, r, h) and the GRU's
    ///   `linear_before_reset = 1` (PyTorch applies the reset gate after the recurrent product).
    /// - LRU: each block's position-wise parts on the whole sequence (encoder, LayerNorm, B x,
    ///   the read-out, GELU, GLU, skip) and the diagonal complex recurrence as a `Scan` over the
    ///   real and imaginary halves of the state (`lruBlock`).
    mutating func recurrentStack(_ spec: RecurrentStackSpec, input: String, stateY: String, stateZ: String?,
                                 tensors: TensorLookup) throws -> StackValues {
        var x = input
        var finalsY: [String] = [], finalsZ: [String] = []
        var lastHidden = ""
        for layer in 0..<spec.layers {
            let m = layer == 0 ? spec.inputSize : spec.hiddenSize
            let y0 = op("Gather", stateY, int64s("layer", [Int64(layer)], scalar: true), attributes: [Attribute.int("axis", 0)])
            let z0 = stateZ.map { op("Gather", $0, int64s("layer", [Int64(layer)], scalar: true), attributes: [Attribute.int("axis", 0)]) }
            let result: (outputs: String, y: String, z: String?)
            switch spec.cell {
            case .lem:
                result = try lemLayer(layer: layer, inputSize: m, hiddenSize: spec.hiddenSize, dt: spec.dt, input: x, y0: y0, z0: z0!, tensors: tensors)
            case .lstm:
                result = try gatedLayer(.lstm, layer: layer, inputSize: m, hiddenSize: spec.hiddenSize, input: x, h0: y0, c0: z0, tensors: tensors)
            case .gru:
                result = try gatedLayer(.gru, layer: layer, inputSize: m, hiddenSize: spec.hiddenSize, input: x, h0: y0, c0: nil, tensors: tensors)
            case .lru:
                result = try lruBlock(layer: layer, inputSize: m, hiddenSize: spec.hiddenSize, input: x, c0: z0!, tensors: tensors)
            }
            x = result.outputs
            lastHidden = result.y
            let axis0 = int64s("axes", [0])
            finalsY.append(op("Unsqueeze", result.y, axis0))
            if let z = result.z { finalsZ.append(op("Unsqueeze", z, axis0)) }
        }
        let concatY = spec.layers == 1 ? finalsY[0] : node("Concat", finalsY, attributes: [Attribute.int("axis", 0)])[0]
        let concatZ: String? = finalsZ.isEmpty ? nil
            : (spec.layers == 1 ? finalsZ[0] : node("Concat", finalsZ, attributes: [Attribute.int("axis", 0)])[0])
        return StackValues(outputs: x, lastHidden: lastHidden, finalY: concatY, finalZ: concatZ)
    }

    /// Adds a checkpoint tensor as an initializer under its own (PyTorch) name, checking its shape.
    mutating func weight(_ name: String, _ shape: [Int], _ tensors: TensorLookup) throws -> String {
        let t = try tensors(name)
        guard t.shape == shape else { throw ONNXExportError("tensor \"\(name)\" has shape \(t.shape), the model settings need \(shape)") }
        initializer(name, shape: shape, floats: t.values)
        return name
    }

    /// One LEM layer: outputs [T, B, d], final y and z [B, d].
    private mutating func lemLayer(layer: Int, inputSize m: Int, hiddenSize d: Int, dt: Float, input: String, y0: String, z0: String,
                                   tensors: TensorLookup) throws -> (outputs: String, y: String, z: String?) {
        let p = CellKind.lemPrefix(layer: layer)
        let inWeight = try weight(p + "inp2hid.weight", [4 * d, m], tensors), inBias = try weight(p + "inp2hid.bias", [4 * d], tensors)
        let hidWeight = try weight(p + "hid2hid.weight", [3 * d, d], tensors), hidBias = try weight(p + "hid2hid.bias", [3 * d], tensors)
        let zWeight = try weight(p + "transform_z.weight", [d, d], tensors), zBias = try weight(p + "transform_z.bias", [d], tensors)
        let perm = Attribute.ints("perm", [1, 0])
        // Whole-sequence input projection: [T, B, m] × [m, 4d] + b → [T, B, 4d].
        let projected = op("Add", op("MatMul", input, op("Transpose", inWeight, attributes: [perm])), inBias)
        let hidT = op("Transpose", hidWeight, attributes: [perm]), zT = op("Transpose", zWeight, attributes: [perm])
        let quarters = int64s("split4", [Int64](repeating: Int64(d), count: 4))
        let thirds = int64s("split3", [Int64](repeating: Int64(d), count: 3))
        let dtValue = scalar("dt", dt), one = scalar("one", 1)

        // The body of one step: (y, z, p_t) → (y', z', y').
        var body = GraphBuilder(name: "lem_step_l\(layer)", prefix: "l\(layer)_")
        let (y, z, pt) = ("l\(layer)_y", "l\(layer)_z", "l\(layer)_p")
        for name in [y, z, pt] { body.input(name, .float, nil) }
        let hh = body.op("Add", body.op("MatMul", y, hidT), hidBias)                       // [B, 3d]
        let ps = body.node("Split", [pt, quarters], outputCount: 4, attributes: [Attribute.int("axis", 1)])
        let hs = body.node("Split", [hh, thirds], outputCount: 3, attributes: [Attribute.int("axis", 1)])
        let gateY = body.op("Mul", dtValue, body.op("Sigmoid", body.op("Add", ps[0], hs[0])))   // Δt̄: gate of the slow state y
        let gateZ = body.op("Mul", dtValue, body.op("Sigmoid", body.op("Add", ps[1], hs[1])))   // Δt: gate of the fast state z
        let candidateZ = body.op("Tanh", body.op("Add", ps[3], hs[2]))
        let newZ = body.op("Add", body.op("Mul", body.op("Sub", one, gateZ), z), body.op("Mul", gateZ, candidateZ))
        let candidateY = body.op("Tanh", body.op("Add", body.op("Add", body.op("MatMul", newZ, zT), zBias), ps[2]))
        let newY = body.op("Add", body.op("Mul", body.op("Sub", one, gateY), y), body.op("Mul", gateY, candidateY))
        let out = body.op("Identity", newY)
        body.output(newY, .float, nil)
        body.output(newZ, .float, nil)
        body.output(out, .float, nil)

        let scan = node("Scan", [y0, z0, projected], outputCount: 3,
                        attributes: [Attribute.graph("body", body.graph), Attribute.int("num_scan_inputs", 1)])
        return (scan[2], scan[0], scan[1])
    }

    /// One LRU block (`LRUBlockLayer`): outputs [T, B, d], the final output out_T and the complex
    /// state h_T packed in the cell-state slot [B, d] (N = ⌊d/2⌋ real parts, N imaginary, a 0 when d
    /// is odd). λ and γ are computed here from ν, θ and gamma_log as the layer computes them (in
    /// Double, rounded to Float); B and C go in packed, [B_re; B_im]ᵀ [d, 2N] and [C_re | −C_im]ᵀ
    /// [2N, d]. The state input `c0` [B, d] is the same packed state.
    private mutating func lruBlock(layer k: Int, inputSize m: Int, hiddenSize d: Int, input: String, c0: String,
                                   tensors: TensorLookup) throws -> (outputs: String, y: String, z: String?) {
        let p = LRUBlockLayer.prefix(layer: k), n = d / 2, n2 = 2 * n
        let perm = Attribute.ints("perm", [1, 0])
        var x = input
        if m != d {   // the encoder (layer 0 when the input width differs)
            let w = try weight("encoder.weight", [d, m], tensors), b = try weight("encoder.bias", [d], tensors)
            x = op("Add", op("MatMul", input, op("Transpose", w, attributes: [perm])), b)
        }
        // Pre-norm: LayerNorm over the features, ε = 1e-5 as the layer's.
        let normWeight = try weight(p + "norm.weight", [d], tensors), normBias = try weight(p + "norm.bias", [d], tensors)
        let z = node("LayerNormalization", [x, normWeight, normBias], attributes: [Attribute.int("axis", -1), Attribute.float("epsilon", 1e-5)])[0]

        // The recurrence's constants.
        func values(_ name: String, _ shape: [Int]) throws -> [Float] {
            let t = try tensors(p + "lru." + name)
            guard t.shape == shape else { throw ONNXExportError("tensor \"\(p)lru.\(name)\" has shape \(t.shape), the model settings need \(shape)") }
            return t.values
        }
        let (nu, theta, gammaLog) = (try values("nu_log", [n]), try values("theta_log", [n]), try values("gamma_log", [n]))
        let (bRe, bIm) = (try values("B_re", [n, d]), try values("B_im", [n, d]))
        let (cRe, cIm) = (try values("C_re", [d, n]), try values("C_im", [d, n]))
        var lamRe = [Float](repeating: 0, count: n), lamIm = lamRe, gammaTwice = [Float](repeating: 0, count: n2)
        for i in 0..<n {
            let modulus = exp(-exp(Double(nu[i]))), phase = exp(Double(theta[i]))
            lamRe[i] = Float(modulus * cos(phase)); lamIm[i] = Float(modulus * sin(phase))
            gammaTwice[i] = Float(exp(Double(gammaLog[i]))); gammaTwice[n + i] = gammaTwice[i]
        }
        var bPacked = [Float](repeating: 0, count: d * n2), cPacked = [Float](repeating: 0, count: n2 * d)
        for i in 0..<n {
            for j in 0..<d {
                bPacked[j * n2 + i] = bRe[i * d + j]; bPacked[j * n2 + n + i] = bIm[i * d + j]
                cPacked[i * d + j] = cRe[j * n + i]; cPacked[(n + i) * d + j] = -cIm[j * n + i]
            }
        }
        let q = "onnx_lru_l\(k)."
        initializer(q + "B_packed", shape: [d, n2], floats: bPacked)
        initializer(q + "C_packed", shape: [n2, d], floats: cPacked)
        initializer(q + "gamma", shape: [n2], floats: gammaTwice)
        initializer(q + "lambda_re", shape: [n], floats: lamRe)
        initializer(q + "lambda_im", shape: [n], floats: lamIm)
        let dWeight = try weight(p + "lru.D", [d], tensors)
        // γ ⊙ B x for every step: [T, B, d] × [d, 2N].
        let u = op("Mul", op("MatMul", z, q + "B_packed"), q + "gamma")
        let halves = int64s("split_lru\(k)", [Int64(n), Int64(n)])
        let h0 = d == n2 ? c0 : op("Slice", c0, int64s("zero", [0]), int64s("state_width\(k)", [Int64(n2)]), int64s("axes1", [1]))

        // One step: h' = λ ⊙ h + u_t on the (Re, Im) halves; the new state is also the step's output.
        var body = GraphBuilder(name: "lru_step_l\(k)", prefix: "r\(k)_")
        let (h, ut) = ("r\(k)_h", "r\(k)_u")
        for name in [h, ut] { body.input(name, .float, nil) }
        let hs = body.node("Split", [h, halves], outputCount: 2, attributes: [Attribute.int("axis", 1)])
        let us = body.node("Split", [ut, halves], outputCount: 2, attributes: [Attribute.int("axis", 1)])
        let (lr, li) = (q + "lambda_re", q + "lambda_im")
        let newRe = body.op("Add", body.op("Sub", body.op("Mul", lr, hs[0]), body.op("Mul", li, hs[1])), us[0])
        let newIm = body.op("Add", body.op("Add", body.op("Mul", lr, hs[1]), body.op("Mul", li, hs[0])), us[1])
        let next = body.node("Concat", [newRe, newIm], attributes: [Attribute.int("axis", 1)])[0]
        let stepOut = body.op("Identity", next)
        body.output(next, .float, nil)
        body.output(stepOut, .float, nil)
        let scan = node("Scan", [h0, u], outputCount: 2, attributes: [Attribute.graph("body", body.graph), Attribute.int("num_scan_inputs", 1)])

        // v = Re(C h) + D ⊙ z; a = GELU(v) (tanh form); out = x + (W₁a + b₁) ⊙ σ(W₂a + b₂).
        let v = op("Add", op("Mul", z, dWeight), op("MatMul", scan[1], q + "C_packed"))
        let cubic = op("Mul", scalar("gelu_c", 0.044715), op("Mul", v, op("Mul", v, v)))
        let t = op("Tanh", op("Mul", scalar("gelu_s", 0.7978845608), op("Add", v, cubic)))
        let a = op("Mul", op("Mul", scalar("half", 0.5), v), op("Add", scalar("one", 1), t))
        let w1 = try weight(p + "out1.weight", [d, d], tensors), b1 = try weight(p + "out1.bias", [d], tensors)
        let w2 = try weight(p + "out2.weight", [d, d], tensors), b2 = try weight(p + "out2.bias", [d], tensors)
        let lin = op("Add", op("MatMul", a, op("Transpose", w1, attributes: [perm])), b1)
        let gate = op("Sigmoid", op("Add", op("MatMul", a, op("Transpose", w2, attributes: [perm])), b2))
        let out = op("Add", x, op("Mul", lin, gate))
        let last = op("Gather", out, int64s("last", [-1], scalar: true), attributes: [Attribute.int("axis", 0)])
        let state = d == n2 ? scan[0] : op("Pad", scan[0], int64s("pad_odd", [0, 0, 0, 1]))
        return (out, last, state)
    }

    /// One LSTM or GRU layer through ONNX's operator: outputs [T, B, d], final h (and c) [B, d].
    private mutating func gatedLayer(_ cell: CellKind, layer k: Int, inputSize m: Int, hiddenSize d: Int, input: String, h0: String, c0: String?,
                                     tensors: TensorLookup) throws -> (outputs: String, y: String, z: String?) {
        let gates = cell == .lstm ? 4 : 3
        // ONNX's gate blocks as PyTorch's: LSTM i, o, f, c from i, f, g, o; GRU z, r, h from r, z, n.
        let order = cell == .lstm ? [0, 3, 1, 2] : [1, 0, 2]
        func reordered(_ name: String, _ shape: [Int]) throws -> [Float] {
            let t = try tensors(name)
            guard t.shape == shape else { throw ONNXExportError("tensor \"\(name)\" has shape \(t.shape), the model settings need \(shape)") }
            let block = d * (shape.count == 2 ? shape[1] : 1)
            return order.flatMap { t.values[($0 * block)..<(($0 + 1) * block)] }
        }
        let op = cell == .lstm ? "LSTM" : "GRU"
        let w = "onnx_\(op.lowercased())_l\(k).W", r = "onnx_\(op.lowercased())_l\(k).R", b = "onnx_\(op.lowercased())_l\(k).B"
        initializer(w, shape: [1, gates * d, m], floats: try reordered("rnn.weight_ih_l\(k)", [gates * d, m]))
        initializer(r, shape: [1, gates * d, d], floats: try reordered("rnn.weight_hh_l\(k)", [gates * d, d]))
        initializer(b, shape: [1, 2 * gates * d], floats: try reordered("rnn.bias_ih_l\(k)", [gates * d]) + reordered("rnn.bias_hh_l\(k)", [gates * d]))
        let axis0 = int64s("axes", [0])
        var inputs = [input, w, r, b, "", self.op("Unsqueeze", h0, axis0)]
        var attributes = [Attribute.int("hidden_size", d)]
        if let c0 { inputs.append(self.op("Unsqueeze", c0, axis0)) } else { attributes.append(Attribute.int("linear_before_reset", 1)) }
        let outs = node(op, inputs, outputCount: cell == .lstm ? 3 : 2, attributes: attributes)
        // Y [T, 1, B, d] → [T, B, d]; Y_h, Y_c [1, B, d] → [B, d].
        let outputs = self.op("Squeeze", outs[0], int64s("axes", [1]))
        let h = self.op("Squeeze", outs[1], axis0)
        let c = cell == .lstm ? self.op("Squeeze", outs[2], axis0) : nil
        return (outputs, h, c)
    }
}

/// An export that cannot be made, with the reason.
public struct ONNXExportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

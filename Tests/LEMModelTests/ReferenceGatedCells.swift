import Foundation
@testable import LEMModel
@testable import Runtime

// Independent Double references of torch.nn.LSTM and torch.nn.GRU (one layer, one direction),
// one step at a time with plain loops, for the gradient checks. They share no code with the Float
// layers. PyTorch's documented equations (and gate order) are the specification.

enum GatedCellKind { case lstm, gru }

struct ReferenceGatedCell {
    var kind: GatedCellKind
    var m: Int, d: Int
    // PyTorch's layout: weight_ih [G·d, m], weight_hh [G·d, d], bias_ih [G·d], bias_hh [G·d].
    var weightIH: [Double] = [], weightHH: [Double] = [], biasIH: [Double] = [], biasHH: [Double] = []

    static let parameterNames = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]

    var flatParameters: [[Double]] {
        get { [weightIH, weightHH, biasIH, biasHH] }
        set { (weightIH, weightHH, biasIH, biasHH) = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }

    /// Runs T steps over input [T, B, m] from h0 (and c0 for the LSTM) [B, d], with an optional
    /// state mask [B, d] on h where it enters the recurrent product. Returns outputs [T, B, d], h_T, c_T.
    func forward(_ input: [Double], T: Int, B: Int, h0: [Double], c0: [Double], mask: [Double]? = nil)
        -> (outputs: [Double], h: [Double], c: [Double]) {
        var h = h0, c = c0
        var outputs: [Double] = []
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        for t in 0..<T {
            var hNew = h, cNew = c
            for b in 0..<B {
                let u = Array(input[(t * B + b) * m ..< (t * B + b + 1) * m])
                let hb = Array(h[b * d ..< (b + 1) * d])
                let hIn = mask.map { mk in (0..<d).map { hb[$0] * mk[b * d + $0] } } ?? hb
                func inp(_ row: Int) -> Double { biasIH[row] + (0..<m).reduce(0) { $0 + weightIH[row * m + $1] * u[$1] } }
                func hid(_ row: Int) -> Double { biasHH[row] + (0..<d).reduce(0) { $0 + weightHH[row * d + $1] * hIn[$1] } }
                for k in 0..<d {
                    switch kind {
                    case .lstm:
                        let i = sigmoid(inp(k) + hid(k)), f = sigmoid(inp(d + k) + hid(d + k))
                        let g = tanh(inp(2 * d + k) + hid(2 * d + k)), o = sigmoid(inp(3 * d + k) + hid(3 * d + k))
                        cNew[b * d + k] = f * c[b * d + k] + i * g
                        hNew[b * d + k] = o * tanh(cNew[b * d + k])
                    case .gru:
                        let r = sigmoid(inp(k) + hid(k)), z = sigmoid(inp(d + k) + hid(d + k))
                        let n = tanh(inp(2 * d + k) + r * hid(2 * d + k))
                        hNew[b * d + k] = (1 - z) * n + z * hb[k]
                    }
                }
            }
            h = hNew; c = cNew
            outputs += h
        }
        return (outputs, h, c)
    }
}

// What the gated cells (LSTM, GRU) share: their shape, PyTorch's parameter names and
// initialisation, and small elementwise helpers of their forward and backward passes.

/// Shape of one LSTM or GRU layer: PyTorch's `input_size` and `hidden_size`.
public struct GatedCellConfig: Codable, Sendable, Equatable {
    /// m: features per input step.
    public var inputSize: Int
    /// d: size of the hidden state (and of the LSTM's cell state).
    public var hiddenSize: Int

    public init(inputSize: Int, hiddenSize: Int) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
    }
}

/// The four tensors of a gated layer, as `torch.nn.LSTM`/`GRU`'s layer k names them under a prefix:
/// `weight_ih_l<k>` [G·d, m], `weight_hh_l<k>` [G·d, d], `bias_ih_l<k>` [G·d], `bias_hh_l<k>` [G·d]
/// (G gates: 4 for the LSTM, 3 for the GRU).
struct GatedWeights {
    let config: GatedCellConfig
    let inputWeight: Parameter, inputBias: Parameter, hiddenWeight: Parameter, hiddenBias: Parameter

    static func declare(_ layout: inout LayoutBuilder, prefix: String, layer: Int, config: GatedCellConfig, gates: Int) {
        let (m, d) = (config.inputSize, config.hiddenSize)
        layout.add(prefix + "weight_ih_l\(layer)", [gates * d, m])
        layout.add(prefix + "weight_hh_l\(layer)", [gates * d, d])
        layout.add(prefix + "bias_ih_l\(layer)", [gates * d])
        layout.add(prefix + "bias_hh_l\(layer)", [gates * d])
    }

    init(config: GatedCellConfig, parameters: ParameterBlock, prefix: String, layer: Int) {
        precondition(config.inputSize > 0 && config.hiddenSize > 0, "layer sizes must be positive")
        self.config = config
        inputWeight = parameters.parameter(prefix + "weight_ih_l\(layer)")
        inputBias = parameters.parameter(prefix + "bias_ih_l\(layer)")
        hiddenWeight = parameters.parameter(prefix + "weight_hh_l\(layer)")
        hiddenBias = parameters.parameter(prefix + "bias_hh_l\(layer)")
    }

    /// PyTorch's RNN initialisation: every tensor uniform in [−1/√d, 1/√d].
    func initialize(_ rng: inout RandomGenerator) {
        let bound = 1 / Float(config.hiddenSize).squareRoot()
        for p in [inputWeight, inputBias, hiddenWeight, hiddenBias] {
            rng.fillUniform(UnsafeMutableBufferPointer(start: p.value, count: p.count), -bound, bound)
        }
    }
}

/// The caller's input if it stays valid until backward, else a copy of it in `copy`.
func keepInput(_ input: UnsafePointer<Float>, count: Int, staysValid: Bool, copy: inout FloatBuffer?) -> UnsafePointer<Float> {
    if staysValid { return input }
    let kept = ensure(&copy, count)
    kept.update(from: input, count: count)
    return UnsafePointer(kept)
}

/// `state`, or `state ⊙ mask` written to `masked` when there is a mask: what enters the recurrent product.
func maskedState(_ state: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?, into masked: UnsafeMutablePointer<Float>,
                 count: Int) -> UnsafePointer<Float> {
    guard let mask else { return UnsafePointer(state) }
    for j in 0..<count { masked[j] = state[j] * mask[j] }
    return UnsafePointer(masked)
}

/// a += b, elementwise.
func addInPlace(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    for j in 0..<count { a[j] += b[j] }
}

/// a ⊙= b, elementwise.
func multiplyInPlace(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    for j in 0..<count { a[j] *= b[j] }
}

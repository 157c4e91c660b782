/// The recurrent cells a model can stack (`--cell lem|lstm|gru|lru`), and how each names and builds
/// its layers.
///
/// Parameter names, so that a checkpoint loads into PyTorch modules by name:
/// - LEM: layer 0 under `lem.` (the names of a single layer, as in every earlier checkpoint),
///   layer k > 0 under `lem_l<k>.`: the attributes `lem`, `lem_l1`, … of a module holding one of
///   the authors' `LEMCell`s per layer.
/// - LSTM, GRU: all layers under `rnn.`, as one `torch.nn.LSTM`/`torch.nn.GRU` with `num_layers`
///   names them (`rnn.weight_ih_l0`, …, `rnn.bias_hh_l1`).
/// - LRU: residual blocks `layers.<k>.` (norm, lru, out1, out2) after an `encoder.` when the input
///   width differs, as a PyTorch module of the paper's model names them (`LRUBlockLayer`).
public enum CellKind: String, Codable, Sendable, CaseIterable {
    case lem, lstm, gru, lru

    /// "LEM", "LSTM", "GRU": for headers and tables.
    public var displayName: String { rawValue.uppercased() }

    /// Whether the cell carries a cell state besides its hidden state (LEM's z, LSTM's c).
    public var hasCellState: Bool { self != .gru }

    /// The name prefix of layer `layer`'s LEM tensors ("lem.", "lem_l1.", …).
    public static func lemPrefix(layer: Int) -> String { layer == 0 ? "lem." : "lem_l\(layer)." }

    /// Declares layer `layer`'s tensors. `dt` is the LEM's Δt (unused by the other cells).
    public func declare(_ layout: inout LayoutBuilder, layer: Int, inputSize: Int, hiddenSize: Int, dt: Float) {
        switch self {
        case .lem:
            LEMLayer.declare(&layout, prefix: Self.lemPrefix(layer: layer), config: LEMConfig(inputSize: inputSize, hiddenSize: hiddenSize, dt: dt))
        case .lstm:
            LSTMLayer.declare(&layout, prefix: "rnn.", layer: layer, config: GatedCellConfig(inputSize: inputSize, hiddenSize: hiddenSize))
        case .gru:
            GRULayer.declare(&layout, prefix: "rnn.", layer: layer, config: GatedCellConfig(inputSize: inputSize, hiddenSize: hiddenSize))
        case .lru:
            LRUBlockLayer.declare(&layout, layer: layer, inputSize: inputSize, hiddenSize: hiddenSize)
        }
    }

    /// Layer `layer` over the tensors `declare` made in `parameters`.
    public func makeLayer(parameters: ParameterBlock, layer: Int, inputSize: Int, hiddenSize: Int, dt: Float) -> any RecurrentLayer {
        switch self {
        case .lem:
            return LEMLayer(config: LEMConfig(inputSize: inputSize, hiddenSize: hiddenSize, dt: dt), parameters: parameters,
                            prefix: Self.lemPrefix(layer: layer))
        case .lstm:
            return LSTMLayer(config: GatedCellConfig(inputSize: inputSize, hiddenSize: hiddenSize), parameters: parameters, prefix: "rnn.", layer: layer)
        case .gru:
            return GRULayer(config: GatedCellConfig(inputSize: inputSize, hiddenSize: hiddenSize), parameters: parameters, prefix: "rnn.", layer: layer)
        case .lru:
            return LRUBlockLayer(parameters: parameters, layer: layer, inputSize: inputSize, hiddenSize: hiddenSize)
        }
    }

    /// Multiply-adds of the matrix products of one layer for one step of one sequence (input
    /// projection and recurrent products; the gate math is not counted). Forward costs twice this
    /// in FLOPs, forward and backward together six times.
    public func productMultiplyAdds(inputSize m: Int, hiddenSize d: Int) -> Int {
        switch self {
        case .lem: return 4 * d * m + 3 * d * d + d * d   // inp2hid, hid2hid, transform_z
        case .lstm: return 4 * d * m + 4 * d * d
        case .gru: return 3 * d * m + 3 * d * d
        case .lru: return (m == d ? 0 : d * m) + 2 * (d / 2) * d * 2 + 2 * d * d   // encoder, B and C (re, im), out1 and out2
        }
    }

    /// Largest stack the tools accept (a typo guard; the paper uses one layer, awd-lstm-lm three).
    public static let maximumLayers = 16
}

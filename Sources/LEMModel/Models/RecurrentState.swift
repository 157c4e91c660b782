/// The recurrent state of B streams through the L layers of a model, carried from one window to
/// the next: the hidden states `[L, B, d]` (PyTorch's `h_n` layout; LEM: y) and, for cells that
/// have one, the cell states `[L, B, d]` (LEM: z, LSTM: c; empty for a GRU).
public struct RecurrentState: Sendable, Equatable {
    public var hidden: [Float]
    public var cell: [Float]
    /// L.
    public let layers: Int

    /// Zeros for `batch` streams.
    public init(layers: Int = 1, batch: Int, hiddenSize: Int, hasCellState: Bool = true) {
        self.layers = layers
        hidden = [Float](repeating: 0, count: layers * batch * hiddenSize)
        cell = hasCellState ? hidden : []
    }

    public init(layers: Int = 1, hidden: [Float], cell: [Float]) {
        precondition(layers > 0 && hidden.count % layers == 0, "the hidden state does not split into \(layers) layers")
        precondition(cell.isEmpty || cell.count == hidden.count, "hidden and cell states differ in size")
        self.layers = layers
        self.hidden = hidden
        self.cell = cell
    }

    /// The state of streams `range` of `batch` (every layer's rows for those streams).
    public func streams(_ range: Range<Int>, of batch: Int) -> RecurrentState {
        func gather(_ values: [Float]) -> [Float] {
            guard !values.isEmpty else { return [] }
            let d = values.count / (layers * batch)
            return (0..<layers).flatMap { k in values[(k * batch + range.lowerBound) * d ..< (k * batch + range.upperBound) * d] }
        }
        return RecurrentState(layers: layers, hidden: gather(hidden), cell: gather(cell))
    }

    /// Replaces the state of streams `range` of `batch` with `part` (as `streams` returned it).
    public mutating func setStreams(_ range: Range<Int>, of batch: Int, from part: RecurrentState) {
        func scatter(_ part: [Float], into values: inout [Float]) {
            guard !values.isEmpty else { return }
            let d = values.count / (layers * batch)
            let rows = range.count * d
            for k in 0..<layers {
                values.replaceSubrange((k * batch + range.lowerBound) * d ..< (k * batch + range.upperBound) * d,
                                       with: part[k * rows ..< (k + 1) * rows])
            }
        }
        scatter(part.hidden, into: &hidden)
        scatter(part.cell, into: &cell)
    }
}

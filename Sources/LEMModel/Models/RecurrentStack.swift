/// L recurrent layers of one cell kind, each reading the outputs of the one below (the first reads
/// the model's input), with locked dropout between layers (`layerDropout`, as awd-lstm-lm's
/// `dropouth`) and on the recurrent state of each layer (`stateDropout`).
///
/// Both models run their recurrence through this: the language model carries the state of every
/// layer across windows, the classifier starts from zeros and reads the top layer's last state.
final class RecurrentStack: @unchecked Sendable {
    let cell: CellKind
    let layers: [any RecurrentLayer]
    let stateDropouts: [Dropout]
    let layerDropouts: [Dropout]
    let hiddenSize: Int
    private var stateMasked = false, layerMasked = false
    /// Layer k's outputs after dropout, the input of layer k + 1, `[T, B, d]` (k < L − 1).
    private var between: [FloatBuffer?]
    /// Gradients between layers, `[T, B, d]`: two, used in turn.
    private var betweenGrads: [FloatBuffer?] = [nil, nil]
    private var steps = 0, batch = 0

    /// Declares the tensors of `count` layers: the first reads `inputSize` features, the others `hiddenSize`.
    static func declare(_ layout: inout LayoutBuilder, cell: CellKind, layers count: Int, inputSize: Int, hiddenSize: Int, dt: Float) {
        for k in 0..<count { cell.declare(&layout, layer: k, inputSize: k == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize, dt: dt) }
    }

    init(cell: CellKind, layers count: Int, inputSize: Int, hiddenSize: Int, dt: Float, parameters: ParameterBlock,
         stateDropout: Float, layerDropout: Float) {
        self.cell = cell
        self.hiddenSize = hiddenSize
        layers = (0..<count).map {
            cell.makeLayer(parameters: parameters, layer: $0, inputSize: $0 == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize, dt: dt)
        }
        stateDropouts = (0..<count).map { _ in Dropout(.locked, probability: stateDropout) }
        layerDropouts = (0..<max(0, count - 1)).map { _ in Dropout(.locked, probability: layerDropout) }
        between = Array(repeating: nil, count: max(0, count - 1))
    }

    func initialize(_ rng: inout RandomGenerator) {
        for layer in layers { layer.initialize(&rng) }
    }

    var top: any RecurrentLayer { layers[layers.count - 1] }

    func quantizeForInference() { for layer in layers { layer.quantizeForInference() } }

    /// With `training`, draws this window's masks: the state mask of every layer, then those
    /// between layers (one layer draws exactly what a single LEM always drew).
    func sampleMasks(training: Bool, batch B: Int, streams: inout StreamGenerators) {
        stateMasked = training && stateDropouts[0].isActive
        layerMasked = training && !layerDropouts.isEmpty && layerDropouts[0].isActive
        if stateMasked { for dropout in stateDropouts { dropout.sampleMask(steps: 1, batch: B, width: hiddenSize, streams: &streams) } }
        if layerMasked { for dropout in layerDropouts { dropout.sampleMask(steps: 1, batch: B, width: hiddenSize, streams: &streams) } }
    }

    /// No dropout in the next forward (evaluation, sampling).
    func disableMasks() { (stateMasked, layerMasked) = (false, false) }

    /// Runs the stack over `input [T, B, m]`, which must stay unchanged until `backward`, from
    /// `initialHidden`/`initialCell` `[L, B, d]` (nil: zeros), with the masks of `sampleMasks`.
    func forward(input: UnsafePointer<Float>, steps T: Int, batch B: Int,
                 initialHidden: UnsafePointer<Float>?, initialCell: UnsafePointer<Float>?) {
        (steps, batch) = (T, B)
        let (bd, rows) = (B * hiddenSize, T * B * hiddenSize)
        var layerInput = input
        for (k, layer) in layers.enumerated() {
            layer.forward(input: layerInput, steps: T, batch: B, initialHidden: initialHidden.map { $0 + k * bd },
                          initialCell: layer.hasCellState ? initialCell.map { $0 + k * bd } : nil,
                          stateMask: stateMasked ? stateDropouts[k].mask : nil, inputStaysValid: true)
            if k < layers.count - 1 {
                let next = ensure(&between[k], rows)
                next.update(from: layer.outputs, count: rows)
                if layerMasked { layerDropouts[k].apply(next, steps: T, batch: B, width: hiddenSize) }
                layerInput = UnsafePointer(next)
            }
        }
    }

    /// Copies every layer's final hidden (and cell) state into `state`.
    func copyFinalState(into state: inout RecurrentState) {
        let bd = batch * hiddenSize
        state.hidden.withUnsafeMutableBufferPointer { h in
            for (k, layer) in layers.enumerated() { (h.baseAddress! + k * bd).update(from: layer.finalHidden, count: bd) }
        }
        guard cell.hasCellState else { return }
        state.cell.withUnsafeMutableBufferPointer { c in
            for (k, layer) in layers.enumerated() { (c.baseAddress! + k * bd).update(from: layer.finalCell!, count: bd) }
        }
    }

    /// Backward of the last forward: `outputGrad` ∂L/∂(top outputs) `[T, B, d]` or nil,
    /// `finalHiddenGrad` ∂L/∂(top final hidden state) `[B, d]` or nil; writes ∂L/∂input into `inputGrad`.
    func backward(outputGrad: UnsafePointer<Float>?, finalHiddenGrad: UnsafePointer<Float>?, inputGrad: UnsafeMutablePointer<Float>?) {
        let rows = steps * batch * hiddenSize
        var grad = outputGrad
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let below = k == 0 ? inputGrad : ensure(&betweenGrads[k % 2], rows)
            layers[k].backward(outputGrad: grad, finalHiddenGrad: k == layers.count - 1 ? finalHiddenGrad : nil, finalCellGrad: nil,
                               inputGrad: below, initialHiddenGrad: nil, initialCellGrad: nil)
            if k > 0, let below {
                if layerMasked { layerDropouts[k - 1].apply(below, steps: steps, batch: batch, width: hiddenSize) }
                grad = UnsafePointer(below)
            }
        }
    }
}

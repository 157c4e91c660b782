/// A recurrent layer over whole time-major sequences with its own backpropagation through time:
/// the one protocol a cell conforms to. `LEMLayer` is the first; an LSTM or a GRU goes beside it
/// in this folder (its gate math in a `<Cell>Gates.swift` of its own, as `LEMGates.swift`), and the
/// models reach every cell only through this protocol.
///
/// State: each of the B sequences carries a *hidden* vector h `[d]`, which is also the layer's
/// output at every step, and, for cells that have one, a second *cell* vector c `[d]`, from step
/// to step and from one BPTT window to the next (LEM: h = y, c = z; LSTM: h, c; GRU: h only,
/// `hasCellState == false`, and every `cell` argument and result is nil).
///
/// Contract the models rely on:
/// - The parameters live in the model's `ParameterBlock` under the layer's prefix, with PyTorch's
///   names and shapes (each cell's `declare`), so checkpoints map one to one onto `torch.nn`.
/// - `forward` caches what `backward` needs; `backward` runs once per `forward`, accumulates
///   (`+=`) the parameter gradients and overwrites the input and initial-state gradients it is
///   given. Neither allocates once its buffers have grown to the largest T·B seen.
/// - Inputs are `[T, B, m]`, outputs `[T, B, d]`, states `[B, d]`, all row-major, time-major.
public protocol RecurrentLayer: AnyObject, Sendable {
    /// m: features per input step.
    var inputSize: Int { get }
    /// d: size of the hidden (and cell) state.
    var hiddenSize: Int { get }
    /// Whether the cell carries a cell state c besides h.
    var hasCellState: Bool { get }

    /// The cell's reference initialisation (PyTorch's, unless its paper says otherwise).
    func initialize(_ rng: inout RandomGenerator)

    /// Runs `steps` time steps of `batch` sequences from `initialHidden`/`initialCell` (nil: zeros).
    /// `stateMask` `[B, d]` (scaled by 1/(1−p); nil for none) multiplies h where it enters the
    /// recurrent product, the same mask at every step. With `inputStaysValid` the caller keeps
    /// `input` unchanged until `backward` has returned, so the layer need not copy it.
    func forward(input: UnsafePointer<Float>, steps: Int, batch: Int,
                 initialHidden: UnsafePointer<Float>?, initialCell: UnsafePointer<Float>?,
                 stateMask: UnsafePointer<Float>?, inputStaysValid: Bool)

    /// Quantises the current weights of the layer's products to int8 (`Int8Matrix`): from then
    /// on `forward` runs on them (no state mask) and `backward` is refused. Inference only.
    func quantizeForInference()
    var isQuantized: Bool { get }

    /// h₁ … h_T of the last forward pass, `[T, B, d]`.
    var outputs: UnsafeMutablePointer<Float> { get }
    /// h_T and c_T of the last forward pass, `[B, d]` each (c_T nil without a cell state).
    var finalHidden: UnsafeMutablePointer<Float> { get }
    var finalCell: UnsafeMutablePointer<Float>? { get }

    /// Backpropagation through time for the last forward pass: `outputGrad` ∂L/∂h_t `[T, B, d]` (nil
    /// when the loss reads only the final state), `finalHiddenGrad`/`finalCellGrad` ∂L/∂h_T, ∂L/∂c_T
    /// from outside the outputs; writes ∂L/∂input and ∂L/∂h₀, ∂L/∂c₀ where pointers are given.
    func backward(outputGrad: UnsafePointer<Float>?,
                  finalHiddenGrad: UnsafePointer<Float>?, finalCellGrad: UnsafePointer<Float>?,
                  inputGrad: UnsafeMutablePointer<Float>?,
                  initialHiddenGrad: UnsafeMutablePointer<Float>?, initialCellGrad: UnsafeMutablePointer<Float>?)
}

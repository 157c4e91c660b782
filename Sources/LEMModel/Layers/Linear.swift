/// Fully connected layer `y = x·Wᵀ + b` over a batch of rows, W `[out, in]`, b `[out]`
/// (the layout of PyTorch's `nn.Linear`, so weights map one to one).
public final class Linear: @unchecked Sendable {
    public let weight: Parameter
    public let bias: Parameter?
    public var inputSize: Int { weight.shape[1] }
    public var outputSize: Int { weight.shape[0] }
    /// W as int8 once `quantizeForInference` has run: `forward` multiplies through it.
    private var int8: Int8Matrix?

    /// Declares "<prefix>weight" and, if `bias`, "<prefix>bias".
    public static func declare(_ layout: inout LayoutBuilder, prefix: String, inputSize: Int, outputSize: Int, bias: Bool = true) {
        layout.add(prefix + "weight", [outputSize, inputSize])
        if bias { layout.add(prefix + "bias", [outputSize]) }
    }

    public init(weight: Parameter, bias: Parameter?) {
        precondition(weight.shape.count == 2 && (bias == nil || bias!.shape == [weight.shape[0]]), "Linear shapes")
        self.weight = weight
        self.bias = bias
    }

    /// PyTorch's `nn.Linear` default: W and b uniform in [−1/√in, 1/√in].
    public func initialize(_ rng: inout RandomGenerator) {
        let bound = 1 / Float(inputSize).squareRoot()
        rng.fillUniform(UnsafeMutableBufferPointer(start: weight.value, count: weight.count), -bound, bound)
        if let bias { rng.fillUniform(UnsafeMutableBufferPointer(start: bias.value, count: bias.count), -bound, bound) }
    }

    /// The authors' read-out in every task of tk-rusch/LEM: nn.Linear's bias, U(±1/√in), and the
    /// weight drawn again by `kaiming_normal_`, N(0, 2/in) (fan-in, gain √2).
    public func initializeKaimingNormal(_ rng: inout RandomGenerator) {
        initialize(&rng)
        let std = (2 / Float(inputSize)).squareRoot()
        for i in 0..<weight.count { weight.value[i] = std * rng.normal() }
    }

    /// output[N, out] = input[N, in] · Wᵀ + b
    public func forward(input: UnsafePointer<Float>, rows: Int, output: UnsafeMutablePointer<Float>) {
        let (i, o) = (inputSize, outputSize)
        if let bias {
            for r in 0..<rows { (output + r * o).update(from: bias.value, count: o) }
        }
        if let int8 {
            int8.multiply(input, rows: rows, into: output, accumulate: bias != nil)
        } else {
            gemm(transposeB: true, m: rows, n: o, k: i, input, lda: i, weight.value, ldb: i, beta: bias == nil ? 0 : 1, output, ldc: o)
        }
    }

    /// Quantises the current W to int8 (`Int8Matrix`; the bias stays float): inference only.
    public func quantizeForInference() { int8 = Int8Matrix(weight.value, rows: outputSize, columns: inputSize) }
    public var isQuantized: Bool { int8 != nil }

    /// ∂W += ∂outᵀ·input, ∂b += Σ_rows ∂out (unless `biasGradientDone`: the caller has added it,
    /// e.g. the softmax pass), and inputGrad[N, in] = ∂out·W (overwritten) if given.
    public func backward(input: UnsafePointer<Float>, outputGrad: UnsafePointer<Float>, rows: Int, inputGrad: UnsafeMutablePointer<Float>?,
                         biasGradientDone: Bool = false) {
        precondition(int8 == nil, "an int8 layer runs inference only (no backward)")
        let (i, o) = (inputSize, outputSize)
        gemm(transposeA: true, m: o, n: i, k: rows, outputGrad, lda: o, input, ldb: i, beta: 1, weight.grad, ldc: i)
        if let bias, !biasGradientDone { addColumnSums(outputGrad, rows: rows, columns: o, stride: o, into: bias.grad) }
        if let inputGrad {
            gemm(m: rows, n: i, k: o, outputGrad, lda: o, weight.value, ldb: i, beta: 0, inputGrad, ldc: i)
        }
    }
}

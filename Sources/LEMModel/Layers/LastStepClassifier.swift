/// Sequence classification from the last step: logits = Linear(y_T), loss = mean softmax
/// cross-entropy over the batch. This is how the paper classifies keywords (docs/MODEL.md).
public final class LastStepClassifier: @unchecked Sendable {
    public let linear: Linear
    public var classCount: Int { linear.outputSize }
    private var logitsBuffer: FloatBuffer?
    private var gradBuffer: FloatBuffer?
    private var inputBuffer: FloatBuffer?
    private var rows = 0

    public init(linear: Linear) { self.linear = linear }

    /// Logits `[B, C]` of the last `forward` (before `loss` overwrites them with gradients).
    public var logits: UnsafeMutablePointer<Float> { logitsBuffer!.pointer }

    /// logits[B, C] = finalHidden[B, d] · Wᵀ + b. Keeps a copy of finalHidden for backward.
    public func forward(finalHidden: UnsafePointer<Float>, batch: Int) {
        rows = batch
        let x = ensure(&inputBuffer, batch * linear.inputSize)
        x.update(from: finalHidden, count: batch * linear.inputSize)
        linear.forward(input: x, rows: batch, output: ensure(&logitsBuffer, batch * classCount))
    }

    /// Summed cross-entropy over the batch (in nats); with `training`, also prepares the gradient of
    /// the mean loss for `backward`. Reads the logits without changing them.
    public func loss(labels: UnsafePointer<Int32>, training: Bool) -> Double {
        let g = ensure(&gradBuffer, rows * classCount)
        g.update(from: logits, count: rows * classCount)
        return softmaxCrossEntropy(logits: g, rows: rows, classes: classCount, targets: labels,
                                   gradientScale: training ? 1 / Float(rows) : nil)
    }

    /// Accumulates the head's parameter gradients and writes ∂L/∂y_T `[B, d]` into `finalHiddenGrad`.
    public func backward(finalHiddenGrad: UnsafeMutablePointer<Float>) {
        linear.backward(input: inputBuffer!.pointer, outputGrad: gradBuffer!.pointer, rows: rows, inputGrad: finalHiddenGrad)
    }
}

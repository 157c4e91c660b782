import Foundation

/// Sequence regression from the last step: predictions = Linear(y_T), loss = the mean squared
/// error over the batch's B·K outputs (PyTorch's `nn.MSELoss()`, the authors' loss for the heart
/// rate task). Read out at every step, the rows are the T·B hidden states `[T, B, d]` and the
/// mean runs over T·B·K outputs (the FitzHugh-Nagumo task).
public final class LastStepRegressor: @unchecked Sendable {
    public let linear: Linear
    public var outputSize: Int { linear.outputSize }
    private var predictionBuffer: FloatBuffer?
    private var gradBuffer: FloatBuffer?
    private var inputBuffer: FloatBuffer?
    private var rows = 0

    public init(linear: Linear) { self.linear = linear }

    /// Predictions `[B, K]` of the last `forward`.
    public var predictions: UnsafeMutablePointer<Float> { predictionBuffer!.pointer }

    /// predictions[B, K] = finalHidden[B, d] · Wᵀ + b. Keeps a copy of finalHidden for backward.
    public func forward(finalHidden: UnsafePointer<Float>, batch: Int) {
        rows = batch
        let x = ensure(&inputBuffer, batch * linear.inputSize)
        x.update(from: finalHidden, count: batch * linear.inputSize)
        linear.forward(input: x, rows: batch, output: ensure(&predictionBuffer, batch * outputSize))
    }

    /// Σ (prediction − target)² over the batch's B·K outputs; with `training`, also prepares the
    /// gradient of their mean, 2(prediction − target)/(B·K), for `backward`.
    public func loss(targets: UnsafePointer<Float>, training: Bool) -> Double {
        let n = rows * outputSize
        let g = ensure(&gradBuffer, n)
        let p = predictions
        var sum = 0.0
        let scale = 2 / Float(n)
        for i in 0..<n {
            let e = p[i] - targets[i]
            sum += Double(e) * Double(e)
            if training { g[i] = scale * e }
        }
        return sum
    }

    /// Σ over the rows of −log softmax(prediction row)[class], the K predictions of each row read
    /// as logits and `classes` holding one class index per row (as Float, 0 ≤ c < K); with
    /// `training`, also prepares the gradient of the mean, (softmax − one-hot)/rows, for `backward`.
    public func crossEntropy(classes: UnsafePointer<Float>, training: Bool) -> Double {
        let k = outputSize
        let g = ensure(&gradBuffer, rows * k)
        var sum = 0.0
        for r in 0..<rows {
            let logits = predictions + r * k
            let c = Int(classes[r])
            precondition(c >= 0 && c < k && Float(c) == classes[r], "class \(classes[r]) is not one of 0..<\(k)")
            var top = logits[0]
            for j in 1..<k { top = max(top, logits[j]) }
            var total = 0.0
            for j in 0..<k { total += exp(Double(logits[j] - top)) }
            sum += log(total) - Double(logits[c] - top)
            if training {
                for j in 0..<k { g[r * k + j] = Float(exp(Double(logits[j] - top)) / total) / Float(rows) }
                g[r * k + c] -= 1 / Float(rows)
            }
        }
        return sum
    }

    /// Accumulates the head's parameter gradients and writes ∂L/∂y_T `[B, d]` into `finalHiddenGrad`.
    public func backward(finalHiddenGrad: UnsafeMutablePointer<Float>) {
        linear.backward(input: inputBuffer!.pointer, outputGrad: gradBuffer!.pointer, rows: rows, inputGrad: finalHiddenGrad)
    }
}

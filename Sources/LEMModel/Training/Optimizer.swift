/// Which update rule a training run uses.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case adam, sgd }

/// Settings of the update rule (PyTorch's defaults and semantics).
public struct OptimizerSettings: Codable, Sendable, Equatable {
    public var kind: OptimizerKind
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// L2 penalty λ: λ·w is added to every gradient before the update (PyTorch `weight_decay`).
    public var weightDecay: Float = 0
    public var momentum: Float = 0
    /// Where λ·w joins the gradient: false, in the update, after clipping (PyTorch's
    /// `weight_decay`); true, before clipping, as the gradient of a λ·½Σw² term of the loss
    /// (lamb's `l2_penalty`, the authors' recipe).
    public var l2InLoss = false

    public init(kind: OptimizerKind, weightDecay: Float = 0, l2InLoss: Bool = false) {
        self.kind = kind
        self.weightDecay = weightDecay
        self.l2InLoss = l2InLoss
    }

    private enum CodingKeys: String, CodingKey { case kind, beta1, beta2, epsilon, weightDecay, momentum, l2InLoss }

    /// `l2InLoss`, added later, keeps its declared default in resume files of earlier builds.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decode(OptimizerKind.self, forKey: .kind))
        beta1 = try c.decode(Float.self, forKey: .beta1)
        beta2 = try c.decode(Float.self, forKey: .beta2)
        epsilon = try c.decode(Float.self, forKey: .epsilon)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        momentum = try c.decode(Float.self, forKey: .momentum)
        l2InLoss = try c.decodeIfPresent(Bool.self, forKey: .l2InLoss) ?? l2InLoss
    }
}

/// Adam (Kingma & Ba, with bias correction) or SGD over a whole `ParameterBlock`: every update is
/// one loop over the contiguous block. Matches `torch.optim.Adam` / `torch.optim.SGD` step for step:
///
///     Adam:  g += λw;  m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;
///            w −= (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
///     SGD:   g += λw;  b = μb + g (b = g when μ = 0);  w −= lr·b
public final class Optimizer: @unchecked Sendable {
    public let settings: OptimizerSettings
    /// Number of updates done so far (t in Adam's bias correction).
    public internal(set) var stepCount = 0
    /// Adam's first moment, or SGD's momentum buffer; same layout as the parameter block.
    public let firstMoment: FloatBuffer
    /// Adam's second moment (unused by SGD).
    public let secondMoment: FloatBuffer

    public init(settings: OptimizerSettings, parameterCount: Int) {
        self.settings = settings
        firstMoment = FloatBuffer(count: parameterCount)
        secondMoment = FloatBuffer(count: settings.kind == .adam ? parameterCount : 0)
    }

    /// Applies one update with learning rate `lr` using the gradients in `parameters`.
    public func step(_ parameters: ParameterBlock, learningRate lr: Float) {
        precondition(parameters.count == firstMoment.count, "optimizer state does not match the parameters")
        stepCount += 1
        let n = parameters.count
        let w = parameters.values, g = parameters.grads
        let m = firstMoment.pointer
        let wd = settings.l2InLoss ? 0 : settings.weightDecay   // with l2InLoss it is in the gradient already
        switch settings.kind {
        case .adam:
            let v = secondMoment.pointer
            let (b1, b2, eps) = (settings.beta1, settings.beta2, settings.epsilon)
            let correction1 = 1 - Float(pow(Double(b1), Double(stepCount)))
            let correction2 = 1 - Float(pow(Double(b2), Double(stepCount)))
            let stepSize = lr / correction1
            let invSqrtCorrection2 = 1 / correction2.squareRoot()
            for i in 0..<n {
                let gi = g[i] + wd * w[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                w[i] -= stepSize * m[i] / (v[i].squareRoot() * invSqrtCorrection2 + eps)
            }
        case .sgd:
            let mu = settings.momentum
            for i in 0..<n {
                var gi = g[i] + wd * w[i]
                if mu != 0 {
                    m[i] = stepCount == 1 ? gi : mu * m[i] + gi
                    gi = m[i]
                }
                w[i] -= lr * gi
            }
        }
    }
}

/// Adds the gradient of the loss term λ·½Σw², λ·w, to the gradients (`OptimizerSettings.l2InLoss`).
public func addL2Gradient(_ parameters: ParameterBlock, penalty lambda: Float) {
    guard lambda != 0 else { return }
    let (w, g) = (parameters.values, parameters.grads)
    for i in 0..<parameters.count { g[i] += lambda * w[i] }
}

/// The global L2 norm of all gradients, √(Σ g²), accumulated in Double.
public func gradientNorm(_ parameters: ParameterBlock) -> Float {
    let g = parameters.grads
    var total = 0.0
    var chunk: Float = 0
    for i in 0..<parameters.count {
        chunk += g[i] * g[i]
        if i & 4095 == 4095 { total += Double(chunk); chunk = 0 }
    }
    return Float((total + Double(chunk)).squareRoot())
}

/// Global gradient-norm clipping as `torch.nn.utils.clip_grad_norm_`: if the norm exceeds
/// `maxNorm`, every gradient is multiplied by maxNorm / (norm + 1e-6). Returns the norm before
/// clipping (what a training log reports).
@discardableResult
public func clipGradientNorm(_ parameters: ParameterBlock, maxNorm: Float) -> Float {
    let norm = gradientNorm(parameters)
    let coefficient = maxNorm / (norm + 1e-6)
    if coefficient < 1 {
        let g = parameters.grads
        for i in 0..<parameters.count { g[i] *= coefficient }
    }
    return norm
}

#if canImport(Glibc)
import Glibc
#endif

import Foundation
import Tensor

/// AdamW as `torch.optim.AdamW` computes it (decoupled weight decay, bias correction, eps added to the
/// corrected root of the second moment), so runs match PyTorch's to float rounding.
public struct AdamW: Codable, Equatable, Sendable {
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// Updates taken so far; the bias corrections use the count including the update being taken.
    public private(set) var step: Int

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                step: Int = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.step = step
    }

    /// One update of every trainable parameter from its gradient at learning rate `rate`.
    public mutating func update(_ parameters: ParameterSet, learningRate rate: Float) {
        step += 1
        // PyTorch computes these scalars in Python floats (double) and hands them to float32 kernels.
        let t = Double(step)
        let correction1 = 1 - pow(Double(beta1), t)
        let correctionRoot2 = Float((1 - pow(Double(beta2), t)).squareRoot())
        let stepSize = Float(Double(rate) / correction1)
        let decay = Float(1 - Double(rate) * Double(weightDecay))
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        for parameter in parameters.trainable {
            guard let gradient = parameter.gradient?.baseAddress, let m = parameter.firstMoment?.baseAddress,
                  let v = parameter.secondMoment?.baseAddress, let p = parameter.values.baseAddress
            else { continue }
            Parallel.forEachChunk(parameter.count, minimumChunk: 1 << 16) { range in
                for i in range {
                    let g = gradient[i]
                    p[i] *= decay
                    m[i] += (1 - beta1) * (g - m[i])  // exp_avg.lerp_(grad, 1 - beta1)
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g
                    let denominator = v[i].squareRoot() / correctionRoot2 + epsilon
                    p[i] -= stepSize * (m[i] / denominator)
                }
            }
        }
    }
}

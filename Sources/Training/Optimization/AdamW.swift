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
        let constants = Constants(beta1: beta1, beta2: beta2, epsilon: epsilon, decay: decay, stepSize: stepSize,
                                  correctionRoot2: correctionRoot2)
        for parameter in parameters.trainable {
            guard let gradient = parameter.gradient?.baseAddress, let m = parameter.firstMoment?.baseAddress,
                  let v = parameter.secondMoment?.baseAddress, let p = parameter.values.baseAddress
            else { continue }
            Parallel.forEachChunk(parameter.count, minimumChunk: 1 << 16) { range in
                // Eight lanes at a time: four buffers the compiler cannot prove apart would otherwise keep
                // this loop scalar, and it streams every trainable weight once per step.
                var i = range.lowerBound
                while i + 8 <= range.upperBound {
                    func load(_ buffer: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
                        UnsafeRawPointer(buffer + i).loadUnaligned(as: SIMD8<Float>.self)
                    }
                    let new = constants.update(gradient: load(gradient), m: load(m), v: load(v), p: load(p))
                    UnsafeMutableRawPointer(m + i).storeBytes(of: new.m, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(v + i).storeBytes(of: new.v, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(p + i).storeBytes(of: new.p, as: SIMD8<Float>.self)
                    i += 8
                }
                let tail = range.upperBound - i
                guard tail > 0 else { return }
                // The last few elements go through the same lanes, zero-padded (a zero moment is harmless).
                var (g8, m8, v8, p8) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
                for k in 0..<tail { (g8[k], m8[k], v8[k], p8[k]) = (gradient[i + k], m[i + k], v[i + k], p[i + k]) }
                let new = constants.update(gradient: g8, m: m8, v: v8, p: p8)
                for k in 0..<tail { (m[i + k], v[i + k], p[i + k]) = (new.m[k], new.v[k], new.p[k]) }
            }
        }
    }

    /// The scalars of one update, applied in torch's operation order: p *= decay;
    /// exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) grad^2;
    /// p -= step_size * exp_avg / (sqrt(exp_avg_sq) / sqrt(correction2) + eps).
    private struct Constants {
        let beta1, beta2, epsilon, decay, stepSize, correctionRoot2: Float

        @inline(__always)
        func update(gradient g: SIMD8<Float>, m: SIMD8<Float>, v: SIMD8<Float>, p: SIMD8<Float>)
            -> (m: SIMD8<Float>, v: SIMD8<Float>, p: SIMD8<Float>) {
            let newM = m + (1 - beta1) * (g - m)
            let newV = beta2 * v + (1 - beta2) * g * g
            let denominator = newV.squareRoot() / correctionRoot2 + epsilon
            return (newM, newV, p * decay - stepSize * (newM / denominator))
        }
    }
}

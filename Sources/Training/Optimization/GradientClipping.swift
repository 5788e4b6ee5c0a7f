/// `torch.nn.utils.clip_grad_norm_` over all trainable gradients together.
public enum GradientClipping {
    /// The global L2 norm of the gradients (accumulated in Float64 so millions of squares do not lose
    /// their small terms).
    public static func globalNorm(_ parameters: ParameterSet) -> Double {
        var total: Double = 0
        for parameter in parameters.trainable {
            guard let gradient = parameter.gradient else { continue }
            var sum: Double = 0
            for value in gradient { sum += Double(value) * Double(value) }
            total += sum
        }
        return total.squareRoot()
    }

    /// Scales every gradient by `maxNorm / (norm + 1e-6)` when that is below 1; returns the norm before
    /// clipping, which is what training logs report.
    @discardableResult
    public static func clip(_ parameters: ParameterSet, maxNorm: Double) -> Double {
        let norm = globalNorm(parameters)
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return norm }
        let scale = Float(coefficient)
        for parameter in parameters.trainable {
            guard let gradient = parameter.gradient?.baseAddress else { continue }
            for i in 0..<parameter.count { gradient[i] *= scale }
        }
        return norm
    }
}

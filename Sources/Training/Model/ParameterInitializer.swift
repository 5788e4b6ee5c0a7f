import Foundation

/// Initialisation from scratch (`--init random`), deterministic from a generator: matrices and tables
/// normal(0, 0.02) as transformers' LLaMA `initializer_range`, the perceiver latents normal(0, 1) as RadFM's
/// `torch.randn`, and every one-dimensional tensor a norm's weight (1) or a bias (0): in RadFM only norms
/// have one-dimensional weights.
public enum ParameterInitializer {
    public static let standardDeviation: Float = 0.02

    public static func initialize(_ parameters: ParameterSet, generator: inout SeededGenerator) {
        for parameter in parameters.parameters {
            let values = parameter.values
            if parameter.shape.count == 1 {
                values.update(repeating: parameter.key.hasSuffix(".bias") ? 0 : 1)
                continue
            }
            let scale: Float = parameter.key.hasSuffix("perceiver.latents") ? 1 : standardDeviation
            for i in 0..<values.count { values[i] = scale * normal(&generator) }
        }
    }

    /// Box-Muller; one draw per call keeps the stream position simple to reason about.
    static func normal(_ generator: inout SeededGenerator) -> Float {
        let u1 = max(Double(generator.next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(generator.next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

import Foundation

/// Initialisation from scratch (`--init random`), deterministic from a generator, as RadFM's PyTorch modules
/// start out:
/// - the language model (`lang_model.*`, and `embedding_layer.weight`, which is its tied token table) as
///   transformers' LLaMA `_init_weights`: matrices normal(0, 0.02), RMSNorm weights 1;
/// - the vision encoder, perceiver and projection (`embedding_layer.*`) are plain torch modules with torch's
///   defaults: a Linear's weight and bias uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with
///   a = sqrt(5)), LayerNorm weight 1 and bias 0, the position tables (nn.Embedding), the perceiver latents
///   and `figure_token_weight` (torch.randn) normal(0, 1).
/// The vision side matters: at 0.02 the image's share of each visual token is about 1% of the latents',
/// and a model trained from scratch learns to ignore its images.
public enum ParameterInitializer {
    public static let languageModelStandardDeviation: Float = 0.02

    public static func initialize(_ parameters: ParameterSet, generator: inout SeededGenerator) {
        let shapes = Dictionary(uniqueKeysWithValues: parameters.parameters.map { ($0.key, $0.shape) })
        for parameter in parameters.parameters {
            let values = parameter.values
            switch rule(for: parameter.key, shape: parameter.shape, shapes: shapes) {
            case .constant(let value):
                values.update(repeating: value)
            case .normal(let standardDeviation):
                for i in 0..<values.count { values[i] = standardDeviation * normal(&generator) }
            case .uniform(let bound):
                for i in 0..<values.count { values[i] = bound * (2 * uniform(&generator) - 1) }
            }
        }
    }

    enum Rule: Equatable {
        case constant(Float)
        case normal(Float)
        case uniform(Float)
    }

    static func rule(for key: String, shape: [Int], shapes: [String: [Int]]) -> Rule {
        let isLanguageModel = key.hasPrefix("lang_model.") || key == "embedding_layer.weight"
        if key.hasSuffix("perceiver.latents") || key == "embedding_layer.figure_token_weight"
            || key.contains("pos_embedding.") {
            return .normal(1)
        }
        if shape.count == 1 {
            // A bias next to a two-dimensional weight belongs to a Linear; every other vector is a norm's.
            let stem = key.hasSuffix(".bias") ? String(key.dropLast(".bias".count)) : nil
            if let stem, let weight = shapes[stem + ".weight"], weight.count == 2, !isLanguageModel {
                return .uniform(1 / Float(weight[1]).squareRoot())
            }
            return .constant(key.hasSuffix(".bias") ? 0 : 1)
        }
        if isLanguageModel { return .normal(languageModelStandardDeviation) }
        return .uniform(1 / Float(shape.last ?? 1).squareRoot())
    }

    /// Box-Muller; one draw per call keeps the stream position simple to reason about.
    static func normal(_ generator: inout SeededGenerator) -> Float {
        let u1 = max(Double(generator.next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(generator.next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }

    static func uniform(_ generator: inout SeededGenerator) -> Float {
        Float(Double(generator.next() >> 11) * 0x1p-53)
    }
}

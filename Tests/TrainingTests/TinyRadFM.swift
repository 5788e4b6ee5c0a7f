import Foundation
import RadFM
import Tensor
import Training

/// A RadFM config small enough for finite differences, with every module present (ViT with a strided
/// position grid, perceiver, projection, fused embedding, two LLaMA layers) and a vocabulary of 40.
enum TinyRadFM {
    static let config = RadFMConfig(
        vision: .init(imageSize: 8, frames: 16, patchSize: 4, framePatchSize: 4, channels: 3, dim: 6, depth: 1,
                      heads: 2, dimHead: 3, mlpDim: 8),
        perceiver: .init(depth: 1, heads: 2, dimHead: 3, numLatents: 2, ffMult: 2),
        text: .init(hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 2, numAttentionHeads: 2, vocabSize: 40,
                    rmsNormEps: 1e-6, maxPositionEmbeddings: 32, ropeTheta: 10000),
        maxImages: 2)

    /// The same model with RadFM's vision dropout switched on.
    static func config(dropout: Float, embDropout: Float) -> RadFMConfig {
        var config = Self.config
        config.vision.dropout = dropout
        config.vision.embDropout = embDropout
        return config
    }

    /// Weights large enough that every module's gradient is well above finite-difference noise.
    static func randomize(_ model: RadFMModel, seed: UInt64, scale: Float = 0.3) {
        var generator = SeededGenerator(seed: seed)
        for binding in model.parameters {
            let values = binding.values
            for i in 0..<values.count {
                let u = generator.unitFloat() * 2 - 1
                if binding.shape.count == 1 {
                    values[i] = binding.key.hasSuffix(".bias") ? 0.1 * u : 1 + 0.1 * u
                } else {
                    values[i] = scale * u * 1.7
                }
            }
        }
    }

    static func image(seed: UInt64, depth: Int = 8) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let shape = [3, 8, 8, depth]
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in generator.unitFloat() })
    }

    /// A sample with one image (markup 40, visual tokens 42 and 43, 41) and a text-only one.
    static func batch() -> [TrainingExample] {
        [
            TrainingExample(inputIds: [1, 40, 42, 43, 41, 5, 7, 9, 11, 2],
                            labels: [-100, -100, -100, -100, -100, -100, 7, 9, 11, 2], images: [image(seed: 5)]),
            TrainingExample(inputIds: [1, 3, 4, 6, 2], labels: [-100, -100, 4, 6, 2], images: []),
        ]
    }
}

import Foundation
import XCTest
@testable import RadFM
import Tensor

/// A configuration with every dimension small but none degenerate: several heads, several layers,
/// images that are not cubes, and RadFM's real vocabulary so token ids mean what they mean in production.
enum TinyModel {
    static let config = RadFMConfig(
        vision: .init(imageSize: 16, frames: 8, patchSize: 8, framePatchSize: 2, channels: 3,
                      dim: 24, depth: 2, heads: 2, dimHead: 8, mlpDim: 40),
        perceiver: .init(depth: 2, heads: 2, dimHead: 8, numLatents: 4, ffMult: 2),
        text: .init(hiddenSize: 32, intermediateSize: 56, numHiddenLayers: 2, numAttentionHeads: 4,
                    vocabSize: 32000, rmsNormEps: 1e-6, maxPositionEmbeddings: 256, ropeTheta: 10000),
        maxImages: 4)

    /// Keys RadFM's checkpoint holds that inference skips.
    static let unusedTensors: [String: [Int]] = [
        "embedding_layer.bert_model.embeddings.word_embeddings.weight": [5, 3],
        "embedding_layer.cls_head.weight": [1, 3],
        "lang_model.model.layers.0.self_attn.rotary_emb.inv_freq": [4],
    ]

    /// Random weights for `config`, keyed as RadFM's state_dict, including the tied embed_tokens copy and
    /// some unused tensors.
    static func checkpoint(config: RadFMConfig = config, seed: UInt64 = 7) -> DictionaryCheckpoint {
        if config == Self.config && seed == 7 { return DictionaryCheckpoint(tensors: defaultTensors) }
        return DictionaryCheckpoint(tensors: randomTensors(config: config, seed: seed))
    }

    /// Made once: filling 2 M random values takes seconds in a debug build.
    static let defaultTensors = randomTensors(config: config, seed: 7)

    static func randomTensors(config: RadFMConfig, seed: UInt64) -> [String: (shape: [Int], values: [Float])] {
        var random = SplitMix64(seed: seed)
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for binding in RadFMModel(config: config).parameters {
            tensors[binding.key] = (binding.shape, randomValues(for: binding.key, shape: binding.shape, &random))
        }
        tensors["lang_model.model.embed_tokens.weight"] = tensors["embedding_layer.weight"]
        for (key, shape) in unusedTensors {
            tensors[key] = (shape, (0..<shape.reduce(1, *)).map { _ in random.nextUniform() })
        }
        return tensors
    }

    /// Norm scales near 1, small biases, weights scaled by 1/sqrt(fan-in) so activations stay O(1).
    static func randomValues(for key: String, shape: [Int], _ random: inout SplitMix64) -> [Float] {
        let count = shape.reduce(1, *)
        let isNormScale = shape.count == 1 && key.hasSuffix("weight")
        let isTable = key.hasSuffix("_embed.weight") || key.hasSuffix("latents")
            || key.hasSuffix("figure_token_weight") || key == "embedding_layer.weight"
        let scale: Float = shape.count == 2 && !isTable ? 1.7 / Float(shape[1]).squareRoot() : 1
        return (0..<count).map { _ in
            let u = random.nextUniform()
            if isNormScale { return 1 + 0.2 * u }
            if key.hasSuffix("bias") { return 0.1 * u }
            return scale * u
        }
    }

    static func loadedModel(config: RadFMConfig = config) throws -> RadFMModel {
        let model = RadFMModel(config: config)
        try model.load(from: checkpoint(config: config))
        return model
    }

    static func image(depth: Int, seed: UInt64) -> Tensor {
        var random = SplitMix64(seed: seed)
        let shape = [config.vision.channels, config.vision.imageSize, config.vision.imageSize, depth]
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in 0.5 + 0.5 * random.nextUniform() })
    }

    /// `[bos] <image> visual tokens </image>` for each image, then `text`.
    static func prompt(images: Int, text: [Int32]) -> [Int32] {
        var ids: [Int32] = [config.bosTokenId]
        let perImage = config.tokensPerImage, firstVisual = Int32(config.firstVisualTokenId)
        for image in 0..<images {
            ids.append(Int32(config.text.vocabSize))
            ids += (0..<perImage).map { firstVisual + Int32(image * perImage + $0) }
            ids.append(Int32(config.text.vocabSize + 1))
        }
        return ids + text
    }
}

/// Deterministic random numbers, so fixtures are identical on every run and machine.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    mutating func nextUniform() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}

/// An in-memory checkpoint: what a reader of `pytorch_model.bin` or safetensors hands the loader.
final class DictionaryCheckpoint: CheckpointReader {
    var tensors: [String: (shape: [Int], values: [Float])]

    init(tensors: [String: (shape: [Int], values: [Float])]) { self.tensors = tensors }

    var keys: [String] { Array(tensors.keys) }

    func shape(of key: String) -> [Int]? { tensors[key]?.shape }

    func read(_ key: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let values = tensors[key]!.values
        precondition(values.count == destination.count, "\(key): \(values.count) values into \(destination.count)")
        _ = destination.update(fromContentsOf: values)
    }
}

/// Relative L2 error `|a - b| / |b|`, `b` being the reference.
func relativeL2(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) values against \(b.count)")
    var difference: Double = 0, norm: Double = 0
    for (x, y) in zip(a, b) {
        difference += Double(x - y) * Double(x - y)
        norm += Double(y) * Double(y)
    }
    return Float((difference / max(norm, 1e-30)).squareRoot())
}

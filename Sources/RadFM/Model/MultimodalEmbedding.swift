import Tensor

/// RadFM's `embedding_layer`: the vision path (ViT -> perceiver -> `fc`) and the token table extended with
/// the two figure markers and the sample's visual tokens. RadFM builds that extended table and multiplies
/// by one-hot rows; gathering the same rows gives identical values without the [tokens, 32002+] matmul.
struct MultimodalEmbedding {
    let vision: VisionTransformer
    let perceiver: PerceiverResampler
    let projection: Linear
    let tokens: Tensor
    let figureTokens: Tensor
    let vocabularySize: Int

    init(_ registry: ParameterRegistry, config: RadFMConfig) {
        let hidden = config.text.hiddenSize
        vision = VisionTransformer(registry.scope("vision_encoder"), config: config.vision)
        perceiver = PerceiverResampler(registry.scope("perceiver"), dim: config.vision.dim, config: config.perceiver)
        projection = Linear(registry, "fc", in: config.vision.dim, out: hidden, bias: true)
        // The language model's embed_tokens is the same tensor in RadFM's state_dict; either name loads it.
        tokens = registry.tensor("weight", shape: [config.text.vocabSize, hidden],
                                 aliases: ["lang_model.model.embed_tokens.weight"])
        figureTokens = registry.tensor("figure_token_weight", shape: [2, hidden])
        vocabularySize = config.text.vocabSize
    }

    /// Visual tokens [images * num_latents, hidden] of one sample, images in order.
    func visualTokens(_ images: [Tensor]) throws -> Tensor {
        let latentsPerImage = perceiver.latents.rows
        let result = Tensor(zeros: [images.count * latentsPerImage, projection.outFeatures])
        for (index, image) in images.enumerated() {
            let resampled = perceiver(try vision(image, index: index))
            projection(resampled.data, rows: latentsPerImage, into: result.row(index * latentsPerImage))
        }
        return result
    }

    /// Writes the embedding of each id into consecutive rows starting at `output`.
    func embed(
        _ ids: [Int32], visualTokens: Tensor?, sample: Int, into output: UnsafeMutablePointer<Float>
    ) throws {
        let hidden = tokens.columns
        let firstVisual = vocabularySize + 2
        for (row, id) in ids.enumerated() {
            let source: UnsafeMutablePointer<Float>
            let value = Int(id)
            if value >= 0 && value < vocabularySize {
                source = tokens.row(value)
            } else if value >= vocabularySize && value < firstVisual {
                source = figureTokens.row(value - vocabularySize)
            } else if value >= firstVisual {
                guard let visualTokens, value - firstVisual < visualTokens.rows else {
                    throw RadFMModelError.visualTokenOutOfRange(
                        sample: sample, tokenId: id, visualTokens: visualTokens?.rows ?? 0)
                }
                source = visualTokens.row(value - firstVisual)
            } else {
                throw RadFMModelError.tokenIdOutOfRange(sample: sample, tokenId: id)
            }
            (output + row * hidden).update(from: source, count: hidden)
        }
    }
}

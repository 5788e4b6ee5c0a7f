import Tensor

/// The RadFM network with its weights: vision encoder, perceiver, projection, fused embedding, LLaMA.
/// Shapes come from the config; parameters start at zero until `load(from:)` reads a checkpoint.
public final class RadFMModel {
    public let config: RadFMConfig
    /// Every checkpoint tensor the model reads, keyed as in RadFM's state_dict.
    public let parameters: [ParameterBinding]
    let embedding: MultimodalEmbedding
    let decoder: LlamaDecoder

    /// `layout` is `.inference` for generation; the trainer and checkpoint writers, which walk every
    /// parameter as one dense block, use `.contiguous`.
    public init(config: RadFMConfig, layout: WeightLayout = .inference) {
        self.config = config
        let registry = ParameterRegistry(layout: layout)
        embedding = MultimodalEmbedding(registry.scope("embedding_layer"), config: config)
        decoder = LlamaDecoder(registry.scope("lang_model"), config: config.text)
        parameters = registry.bindings
    }

    public func load(from reader: CheckpointReader) throws {
        try WeightLoader.load(parameters, from: reader)
    }

    /// Vision-encoder features [patches, dim] of one [C, H, W, D] image (before the perceiver).
    public func visionFeatures(_ image: Tensor) throws -> Tensor { try embedding.vision(image) }

    /// Perceiver output [num_latents, dim] for one image's vision features.
    public func resample(_ features: Tensor) -> Tensor { embedding.perceiver(features) }

    /// The visual tokens [images * num_latents, hidden] a sample's images put into the prompt.
    public func visualTokens(_ images: [Tensor], sample: Int = 0) throws -> Tensor {
        guard images.count <= config.maxImages else {
            throw RadFMModelError.tooManyImages(sample: sample, count: images.count, limit: config.maxImages)
        }
        return try embedding.visualTokens(images)
    }

    public func makeCache(capacity: Int) -> KVCache { decoder.makeCache(capacity: capacity) }

    /// Feeds each sequence's new tokens (continuing its cache) through the language model in one batch and
    /// returns the logits [sequences, vocab] at each sequence's last new token. `visualTokens[i]` resolves
    /// the ids >= 32002 of sequence `i`.
    public func forward(tokens: [[Int32]], visualTokens: [Tensor?], caches: [KVCache]) throws -> Tensor {
        precondition(tokens.count == caches.count && tokens.count == visualTokens.count)
        let hidden = Tensor(zeros: [tokens.reduce(0) { $0 + $1.count }, config.text.hiddenSize])
        var segments: [SequenceSegment] = []
        var start = 0
        for (sample, ids) in tokens.enumerated() {
            let cache = caches[sample]
            guard cache.length + ids.count <= cache.capacity else {
                throw RadFMModelError.sequenceTooLong(sample: sample, length: cache.length + ids.count,
                                                      limit: cache.capacity)
            }
            precondition(!ids.isEmpty, "sequence \(sample) has no new tokens")
            try embedding.embed(ids, visualTokens: visualTokens[sample], sample: sample, into: hidden.row(start))
            segments.append(SequenceSegment(start: start, count: ids.count, cache: cache))
            start += ids.count
        }
        return decoder(hidden, segments: segments)
    }
}

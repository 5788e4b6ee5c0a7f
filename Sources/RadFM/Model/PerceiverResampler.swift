import Tensor

/// Flamingo-style perceiver attention: latents attend to the concatenation of the (normed) media tokens and
/// the (normed) latents themselves; q from latents only. No biases.
struct PerceiverAttention {
    let mediaNorm: LayerNorm
    let latentNorm: LayerNorm
    let query: Linear
    let keyValue: Linear
    let output: Linear
    let heads: Int
    let headDim: Int

    init(_ registry: ParameterRegistry, dim: Int, config: RadFMConfig.Perceiver) {
        mediaNorm = LayerNorm(registry, "norm_media", dim: dim)
        latentNorm = LayerNorm(registry, "norm_latents", dim: dim)
        query = Linear(registry, "to_q", in: dim, out: config.innerDim, bias: false)
        keyValue = Linear(registry, "to_kv", in: dim, out: 2 * config.innerDim, bias: false)
        output = Linear(registry, "to_out", in: config.innerDim, out: dim, bias: false)
        heads = config.heads
        headDim = config.dimHead
    }

    /// `latents += to_out(attention)` for one image's `media` [n, dim] and `latents` [L, dim].
    func callAsFunction(media: Tensor, latents: Tensor) {
        let (mediaRows, latentRows, dim, inner) = (media.rows, latents.rows, media.columns, heads * headDim)
        // Key/value input is [norm_media(media); norm_latents(latents)], built in one buffer.
        let keyValueInput = Tensor(zeros: [mediaRows + latentRows, dim])
        mediaNorm(media.data, rows: mediaRows, into: keyValueInput.data)
        let normedLatents = keyValueInput.row(mediaRows)
        latentNorm(latents.data, rows: latentRows, into: normedLatents)

        let queries = Tensor(zeros: [latentRows, inner])
        query(normedLatents, rows: latentRows, into: queries.data)
        // Media rows and latent rows in two products: a 4-slice image's 256 media rows and the 32 latents
        // each run the broadcast kernel, where the 288 together would go to sgemm and its weight packing.
        let keysAndValues = Tensor(zeros: [mediaRows + latentRows, 2 * inner])
        keyValue(keyValueInput.data, rows: mediaRows, into: keysAndValues.data)
        keyValue(normedLatents, rows: latentRows, into: keysAndValues.row(mediaRows))
        let attended = Tensor(zeros: [latentRows, inner])
        Attention.multiHead(
            Attention.Operands(
                query: queries.data, queryStride: inner, key: keysAndValues.data, keyStride: 2 * inner,
                value: keysAndValues.data + inner, valueStride: 2 * inner, output: attended.data,
                outputStride: inner, queryCount: latentRows, keyCount: keysAndValues.rows),
            heads: heads, headDim: headDim, causal: false)
        output(attended.data, rows: latentRows, into: latents.data, accumulate: true)
    }
}

/// RadFM's perceiver resampler (`embedding_layer.perceiver`): turns one image's patch tokens into
/// `num_latents` tokens. Each image is resampled on its own.
public struct PerceiverResampler {
    let latents: Tensor
    let layers: [(attention: PerceiverAttention, norm: LayerNorm, up: Linear, down: Linear)]
    let finalNorm: LayerNorm

    init(_ registry: ParameterRegistry, dim: Int, config: RadFMConfig.Perceiver) {
        latents = registry.tensor("latents", shape: [config.numLatents, dim])
        layers = (0..<config.depth).map { k in
            let layer = registry.scope("layers.\(k)")
            let feedForward = layer.scope("1")
            return (PerceiverAttention(layer.scope("0"), dim: dim, config: config),
                    LayerNorm(feedForward, "0", dim: dim),
                    Linear(feedForward, "1", in: dim, out: dim * config.ffMult, bias: false),
                    Linear(feedForward, "3", in: dim * config.ffMult, out: dim, bias: false))
        }
        finalNorm = LayerNorm(registry, "norm", dim: dim)
    }

    /// [num_latents, dim] tokens for one image's vision features [n, dim].
    public func callAsFunction(_ media: Tensor) -> Tensor {
        let state = latents.copy()
        for layer in layers {
            layer.attention(media: media, latents: state)
            let hidden = layer.up(layer.norm(state))
            Activation.gelu(hidden.data, count: hidden.count)
            layer.down(hidden.data, rows: state.rows, into: state.data, accumulate: true)
        }
        finalNorm(state.data, rows: state.rows, into: state.data)
        return state
    }
}

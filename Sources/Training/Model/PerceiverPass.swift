import RadFM
import Tensor

/// RadFM's perceiver resampler (`embedding_layer.perceiver`) with a backward pass. Each layer: latents
/// attend to [norm_media(media); norm_latents(latents)] with queries from the normed latents only, then a
/// GELU feed-forward; both residual. A final LayerNorm. Each image is resampled on its own.
struct PerceiverPass {
    struct Layer {
        let mediaNorm: LayerNormLayer
        let latentNorm: LayerNormLayer
        let query: LinearLayer
        let keyValue: LinearLayer
        let output: LinearLayer
        let feedForwardNorm: LayerNormLayer
        let up: LinearLayer
        let down: LinearLayer
    }

    struct LayerRecord {
        let latents: Tensor
        let mediaNorm: LayerNormRecord
        let latentNorm: LayerNormRecord
        /// [norm_media(media); norm_latents(latents)]: the key/value projection's input.
        let keyValueInput: Tensor
        let queries: Tensor
        let keysAndValues: Tensor
        let probabilities: Tensor
        let attended: Tensor
        let middle: Tensor
        let feedForwardNorm: LayerNormRecord
        let preActivation: Tensor
        let activation: Tensor
    }

    struct Record {
        let media: Tensor
        let layers: [LayerRecord]
        let beforeFinalNorm: Tensor
        let finalNorm: LayerNormRecord
    }

    let dim: Int
    let config: RadFMConfig.Perceiver
    let latents: ParameterSlot
    let layers: [Layer]
    let finalNorm: LayerNormLayer

    init(_ parameters: ParameterSet, dim: Int, config: RadFMConfig.Perceiver) throws {
        self.dim = dim
        self.config = config
        let prefix = "embedding_layer.perceiver."
        let inner = config.innerDim, hidden = dim * config.ffMult
        latents = try ParameterSlot(parameters, prefix + "latents", count: config.numLatents * dim)
        layers = try (0..<config.depth).map { k in
            let layer = prefix + "layers.\(k)."
            return Layer(
                mediaNorm: try LayerNormLayer(parameters, layer + "0.norm_media", dim: dim),
                latentNorm: try LayerNormLayer(parameters, layer + "0.norm_latents", dim: dim),
                query: try LinearLayer(parameters, layer + "0.to_q", in: dim, out: inner, bias: false),
                keyValue: try LinearLayer(parameters, layer + "0.to_kv", in: dim, out: 2 * inner, bias: false),
                output: try LinearLayer(parameters, layer + "0.to_out", in: inner, out: dim, bias: false),
                feedForwardNorm: try LayerNormLayer(parameters, layer + "1.0", dim: dim),
                up: try LinearLayer(parameters, layer + "1.1", in: dim, out: hidden, bias: false),
                down: try LinearLayer(parameters, layer + "1.3", in: hidden, out: dim, bias: false))
        }
        finalNorm = try LayerNormLayer(parameters, prefix + "norm", dim: dim)
    }

    func layout(mediaRows: Int) -> AttentionOp.Layout {
        let inner = config.innerDim
        return AttentionOp.Layout(queryCount: config.numLatents, keyCount: mediaRows + config.numLatents,
                                  heads: config.heads, headDim: config.dimHead, causal: false, queryStride: inner,
                                  keyStride: 2 * inner, valueStride: 2 * inner, outputStride: inner)
    }

    func forward(_ media: Tensor) -> (latents: Tensor, record: Record) {
        let (mediaRows, latentRows, inner) = (media.rows, config.numLatents, config.innerDim)
        let state = Tensor(zeros: [latentRows, dim])
        state.data.update(from: latents.values, count: state.count)
        var records: [LayerRecord] = []
        for layer in layers {
            let input = state.copy()
            let mediaNormed = layer.mediaNorm.forward(media.data, rows: mediaRows)
            let latentNormed = layer.latentNorm.forward(state.data, rows: latentRows)
            let keyValueInput = Tensor(zeros: [mediaRows + latentRows, dim])
            keyValueInput.data.update(from: mediaNormed.output.data, count: mediaRows * dim)
            keyValueInput.row(mediaRows).update(from: latentNormed.output.data, count: latentRows * dim)
            let queries = layer.query.forward(latentNormed.output.data, rows: latentRows)
            let keysAndValues = layer.keyValue.forward(keyValueInput.data, rows: mediaRows + latentRows)
            let attentionLayout = layout(mediaRows: mediaRows)
            let probabilities = Tensor(zeros: [attentionLayout.probabilityCount])
            let attended = Tensor(zeros: [latentRows, inner])
            AttentionOp.forward(attentionLayout, query: queries.data, key: keysAndValues.data,
                                value: keysAndValues.data + inner, output: attended.data,
                                probabilities: probabilities.data)
            layer.output.forwardAdding(attended.data, rows: latentRows, into: state.data)
            let middle = state.copy()
            let normed = layer.feedForwardNorm.forward(state.data, rows: latentRows)
            let preActivation = layer.up.forward(normed.output.data, rows: latentRows)
            let activation = Tensor(zeros: preActivation.shape)
            GELUOp.forward(preActivation.data, count: preActivation.count, into: activation.data)
            layer.down.forwardAdding(activation.data, rows: latentRows, into: state.data)
            records.append(LayerRecord(
                latents: input, mediaNorm: mediaNormed, latentNorm: latentNormed, keyValueInput: keyValueInput,
                queries: queries, keysAndValues: keysAndValues, probabilities: probabilities, attended: attended,
                middle: middle, feedForwardNorm: normed, preActivation: preActivation, activation: activation))
        }
        let normed = finalNorm.forward(state.data, rows: latentRows)
        return (normed.output, Record(media: media, layers: records, beforeFinalNorm: state, finalNorm: normed))
    }

    /// Adds the weight gradients and returns the gradient with respect to the media (vision features).
    func backward(_ dOutput: UnsafePointer<Float>, record: Record) -> Tensor {
        let (mediaRows, latentRows, inner) = (record.media.rows, config.numLatents, config.innerDim)
        let dState = Tensor(zeros: [latentRows, dim])
        finalNorm.backward(dOutput, x: record.beforeFinalNorm.data, rows: latentRows, record: record.finalNorm,
                           dx: dState.data)
        let dMedia = Tensor(zeros: [mediaRows, dim])
        for (layer, saved) in zip(layers, record.layers).reversed() {
            let dActivation = Tensor(zeros: saved.activation.shape)
            layer.down.backward(dState.data, x: saved.activation.data, rows: latentRows, dx: dActivation.data)
            let dPre = Tensor(zeros: saved.preActivation.shape)
            GELUOp.backward(dActivation.data, x: saved.preActivation.data, count: dPre.count, dx: dPre.data)
            let dNormed = layer.up.backward(dPre.data, x: saved.feedForwardNorm.output.data, rows: latentRows)
            layer.feedForwardNorm.backward(dNormed.data, x: saved.middle.data, rows: latentRows,
                                           record: saved.feedForwardNorm, dx: dState.data)

            let dAttended = Tensor(zeros: saved.attended.shape)
            layer.output.backward(dState.data, x: saved.attended.data, rows: latentRows, dx: dAttended.data)
            let dQueries = Tensor(zeros: saved.queries.shape)
            let dKeysAndValues = Tensor(zeros: saved.keysAndValues.shape)
            AttentionOp.backward(layout(mediaRows: mediaRows), dOutput: dAttended.data, query: saved.queries.data,
                                 key: saved.keysAndValues.data, value: saved.keysAndValues.data + inner,
                                 probabilities: saved.probabilities.data, dQuery: dQueries.data,
                                 dKey: dKeysAndValues.data, dValue: dKeysAndValues.data + inner)
            let dKeyValueInput = layer.keyValue.backward(dKeysAndValues.data, x: saved.keyValueInput.data,
                                                         rows: mediaRows + latentRows)
            // The normed latents feed both the queries and the key/value rows after the media.
            let dLatentNormed = dKeyValueInput.row(mediaRows)
            layer.query.backward(dQueries.data, x: saved.latentNorm.output.data, rows: latentRows, dx: dLatentNormed)
            layer.mediaNorm.backward(dKeyValueInput.data, x: record.media.data, rows: mediaRows,
                                     record: saved.mediaNorm, dx: dMedia.data)
            layer.latentNorm.backward(dLatentNormed, x: saved.latents.data, rows: latentRows,
                                      record: saved.latentNorm, dx: dState.data)
        }
        if let gradient = latents.gradient { VectorMath.addScaled(dState.data, 1, into: gradient, dState.count) }
        return dMedia
    }
}

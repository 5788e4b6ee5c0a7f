import Tensor

/// The new tokens one sequence contributes to a decoder call: rows `start..<start+count` of the batch's
/// hidden states, continuing `cache`.
struct SequenceSegment {
    let start: Int
    let count: Int
    let cache: KVCache
}

/// One LLaMA decoder layer (`lang_model.model.layers.i`). q/k/v and gate/up weights are stacked at load
/// time so each pair or triple is a single product over all rows of the batch. Projections may have
/// padded rows (`WeightLayout.inference`): their `columns` is the row stride.
struct LlamaLayer {
    let inputNorm: Tensor
    let qkv: Tensor
    let attentionOutput: Tensor
    let postAttentionNorm: Tensor
    let gateUp: Tensor
    let down: Tensor
    let config: RadFMConfig.Text

    init(_ registry: ParameterRegistry, config: RadFMConfig.Text) {
        let (hidden, intermediate) = (config.hiddenSize, config.intermediateSize)
        inputNorm = registry.tensor("input_layernorm.weight", shape: [hidden])
        let attention = registry.scope("self_attn")
        qkv = attention.stackedProjections([("q_proj.weight", [hidden, hidden]), ("k_proj.weight", [hidden, hidden]),
                                            ("v_proj.weight", [hidden, hidden])])
        attentionOutput = attention.projection("o_proj.weight", shape: [hidden, hidden])
        postAttentionNorm = registry.tensor("post_attention_layernorm.weight", shape: [hidden])
        let mlp = registry.scope("mlp")
        gateUp = mlp.stackedProjections([("gate_proj.weight", [intermediate, hidden]),
                                         ("up_proj.weight", [intermediate, hidden])])
        down = mlp.projection("down_proj.weight", shape: [hidden, intermediate])
        self.config = config
    }

    /// Updates the hidden states `x` [rows, hidden] in place and writes this layer's keys and values into
    /// each segment's cache at positions `cache.length...`. `workspace` holds buffers for `x.rows` rows.
    func callAsFunction(
        _ x: Tensor, layer: Int, segments: [SequenceSegment], positions: UnsafePointer<Int32>, rotary: RotaryEmbedding,
        workspace: LlamaWorkspace
    ) {
        let (rows, hidden, heads) = (x.rows, config.hiddenSize, config.numAttentionHeads)
        let intermediate = config.intermediateSize
        let (normed, packed, attended) = (workspace.normed, workspace.packed, workspace.attended)
        Normalization.rmsNorm(x.data, rows: rows, dim: hidden, weight: inputNorm.data,
                              epsilon: config.rmsNormEps, into: normed.data)
        Matmul.linear(normed.data, rows: rows, inFeatures: hidden, weight: qkv.data, weightStride: qkv.columns,
                      outFeatures: 3 * hidden, into: packed.data)
        // q and k heads sit side by side at the start of each packed row: one pass rotates both, computing
        // each position's angles once.
        rotary.apply(to: packed.data, rows: rows, rowStride: 3 * hidden, heads: 2 * heads, positions: positions)

        var problems: [Attention.Operands] = []
        problems.reserveCapacity(segments.count)
        for segment in segments {
            let keys = segment.cache.keys[layer], values = segment.cache.values[layer]
            for row in 0..<segment.count {
                let source = packed.row(segment.start + row)
                let position = segment.cache.length + row
                keys.row(position).update(from: source + hidden, count: hidden)
                values.row(position).update(from: source + 2 * hidden, count: hidden)
            }
            problems.append(Attention.Operands(
                query: packed.row(segment.start), queryStride: 3 * hidden, key: keys.data, keyStride: hidden,
                value: values.data, valueStride: hidden, output: attended.row(segment.start), outputStride: hidden,
                queryCount: segment.count, keyCount: segment.cache.length + segment.count))
        }
        if segments.allSatisfy({ $0.count == 1 }) {
            Attention.decodeStep(batch: problems, heads: heads, headDim: config.headDim)
        } else {
            for problem in problems { Attention.multiHead(problem, heads: heads, headDim: config.headDim, causal: true) }
        }
        Matmul.linear(attended.data, rows: rows, inFeatures: hidden, weight: attentionOutput.data,
                      weightStride: attentionOutput.columns, outFeatures: hidden, accumulate: true, into: x.data)

        Normalization.rmsNorm(x.data, rows: rows, dim: hidden, weight: postAttentionNorm.data,
                              epsilon: config.rmsNormEps, into: normed.data)
        let (gateAndUp, activated) = (workspace.gateAndUp, workspace.activated)
        Matmul.linear(normed.data, rows: rows, inFeatures: hidden, weight: gateUp.data, weightStride: gateUp.columns,
                      outFeatures: 2 * intermediate, into: gateAndUp.data)
        Activation.siluGate(gateAndUp.data, rows: rows, width: intermediate, into: activated.data)
        Matmul.linear(activated.data, rows: rows, inFeatures: intermediate, weight: down.data,
                      weightStride: down.columns, outFeatures: hidden, accumulate: true, into: x.data)
    }
}

/// LLaMA decoder stack, final RMSNorm and `lm_head` (`lang_model.`). Token embeddings live in
/// `MultimodalEmbedding`, which owns the shared table.
struct LlamaDecoder {
    let config: RadFMConfig.Text
    let layers: [LlamaLayer]
    let finalNorm: Tensor
    let lmHead: Tensor
    let rotary: RotaryEmbedding

    init(_ registry: ParameterRegistry, config: RadFMConfig.Text) {
        self.config = config
        let model = registry.scope("model")
        let layerScope = model.scope("layers")
        layers = (0..<config.numHiddenLayers).map { LlamaLayer(layerScope.scope("\($0)"), config: config) }
        finalNorm = model.tensor("norm.weight", shape: [config.hiddenSize])
        lmHead = registry.projection("lm_head.weight", shape: [config.vocabSize, config.hiddenSize])
        rotary = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta)
    }

    func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: config.numHiddenLayers, width: config.hiddenSize, capacity: capacity)
    }

    /// Runs the new rows of every segment through all layers, advances the caches, and returns the logits
    /// [segments, vocab] at each segment's last row.
    func callAsFunction(_ hidden: Tensor, segments: [SequenceSegment]) -> Tensor {
        var positions = [Int32](repeating: 0, count: hidden.rows)
        for segment in segments {
            for row in 0..<segment.count { positions[segment.start + row] = Int32(segment.cache.length + row) }
        }
        let workspace = LlamaWorkspace(rows: hidden.rows, config: config)
        positions.withUnsafeBufferPointer { positions in
            for (index, layer) in layers.enumerated() {
                layer(hidden, layer: index, segments: segments, positions: positions.baseAddress!, rotary: rotary,
                      workspace: workspace)
            }
        }
        for segment in segments { segment.cache.length += segment.count }

        let last = Tensor(zeros: [segments.count, config.hiddenSize])
        for (index, segment) in segments.enumerated() {
            last.row(index).update(from: hidden.row(segment.start + segment.count - 1), count: config.hiddenSize)
        }
        Normalization.rmsNorm(last.data, rows: last.rows, dim: config.hiddenSize, weight: finalNorm.data,
                              epsilon: config.rmsNormEps, into: last.data)
        let logits = Tensor(zeros: [segments.count, config.vocabSize])
        Matmul.linear(last.data, rows: last.rows, inFeatures: config.hiddenSize, weight: lmHead.data,
                      weightStride: lmHead.columns, outFeatures: config.vocabSize, into: logits.data)
        return logits
    }
}

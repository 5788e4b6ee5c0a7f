import RadFM
import Tensor

/// The LLaMA decoder (`lang_model.`) with a backward pass over a batch of whole sequences laid end to end:
/// projections run over all rows at once, attention and rotary positions per sequence.
struct LlamaPass {
    struct Layer {
        let inputNorm: RMSNormLayer
        let query: LinearLayer
        let key: LinearLayer
        let value: LinearLayer
        let output: LinearLayer
        let postAttentionNorm: RMSNormLayer
        let gate: LinearLayer
        let up: LinearLayer
        let down: LinearLayer
    }

    struct LayerRecord {
        let input: Tensor
        let inputNorm: (output: Tensor, inverseRMS: Tensor)
        /// After rotary embedding.
        let queries: Tensor
        let keys: Tensor
        let values: Tensor
        /// One probabilities buffer per sequence.
        let probabilities: [Tensor]
        let attended: Tensor
        let middle: Tensor
        let postAttentionNorm: (output: Tensor, inverseRMS: Tensor)
        /// Rows `[gate | up]`, as SiLUGateOp reads them.
        let gateAndUp: Tensor
        let activation: Tensor
    }

    struct Record {
        let segments: [Range<Int>]
        let positions: [Int32]
        let layers: [LayerRecord]
        let beforeFinalNorm: Tensor
        let finalNorm: (output: Tensor, inverseRMS: Tensor)
    }

    let config: RadFMConfig.Text
    let layers: [Layer]
    let finalNorm: RMSNormLayer
    let lmHead: LinearLayer
    let rotary: RotaryEmbedding

    init(_ parameters: ParameterSet, config: RadFMConfig.Text) throws {
        self.config = config
        let (hidden, intermediate, eps) = (config.hiddenSize, config.intermediateSize, config.rmsNormEps)
        layers = try (0..<config.numHiddenLayers).map { i in
            let layer = "lang_model.model.layers.\(i)."
            return Layer(
                inputNorm: try RMSNormLayer(parameters, layer + "input_layernorm.weight", dim: hidden, epsilon: eps),
                query: try LinearLayer(parameters, layer + "self_attn.q_proj", in: hidden, out: hidden, bias: false),
                key: try LinearLayer(parameters, layer + "self_attn.k_proj", in: hidden, out: hidden, bias: false),
                value: try LinearLayer(parameters, layer + "self_attn.v_proj", in: hidden, out: hidden, bias: false),
                output: try LinearLayer(parameters, layer + "self_attn.o_proj", in: hidden, out: hidden, bias: false),
                postAttentionNorm: try RMSNormLayer(parameters, layer + "post_attention_layernorm.weight", dim: hidden,
                                                    epsilon: eps),
                gate: try LinearLayer(parameters, layer + "mlp.gate_proj", in: hidden, out: intermediate, bias: false),
                up: try LinearLayer(parameters, layer + "mlp.up_proj", in: hidden, out: intermediate, bias: false),
                down: try LinearLayer(parameters, layer + "mlp.down_proj", in: intermediate, out: hidden, bias: false))
        }
        finalNorm = try RMSNormLayer(parameters, "lang_model.model.norm.weight", dim: hidden, epsilon: eps)
        lmHead = try LinearLayer(parameters, "lang_model.lm_head", in: hidden, out: config.vocabSize, bias: false)
        rotary = RotaryEmbedding(headDim: config.headDim, theta: config.ropeTheta)
    }

    func layout(length: Int) -> AttentionOp.Layout {
        let hidden = config.hiddenSize
        return AttentionOp.Layout(queryCount: length, keyCount: length, heads: config.numAttentionHeads,
                                  headDim: config.headDim, causal: true, queryStride: hidden, keyStride: hidden,
                                  valueStride: hidden, outputStride: hidden)
    }

    /// Logits [rows, vocab] for the embedded sequences `x` (consumed), one segment of rows per sequence.
    func forward(_ x: Tensor, segments: [Range<Int>]) -> (logits: Tensor, record: Record) {
        let rows = x.rows, hidden = config.hiddenSize, intermediate = config.intermediateSize
        var positions = [Int32](repeating: 0, count: rows)
        for segment in segments { for row in segment { positions[row] = Int32(row - segment.lowerBound) } }
        var records: [LayerRecord] = []
        for layer in layers {
            let input = x.copy()
            let normed = layer.inputNorm.forward(x.data, rows: rows)
            let queries = layer.query.forward(normed.output.data, rows: rows)
            let keys = layer.key.forward(normed.output.data, rows: rows)
            let values = layer.value.forward(normed.output.data, rows: rows)
            positions.withUnsafeBufferPointer { p in
                RotaryOp.forward(rotary, queries.data, rows: rows, rowStride: hidden, heads: config.numAttentionHeads,
                                 positions: p.baseAddress!)
                RotaryOp.forward(rotary, keys.data, rows: rows, rowStride: hidden, heads: config.numAttentionHeads,
                                 positions: p.baseAddress!)
            }
            let attended = Tensor(zeros: [rows, hidden])
            let probabilities = segments.map { segment -> Tensor in
                let attentionLayout = layout(length: segment.count)
                let p = Tensor(zeros: [attentionLayout.probabilityCount])
                let start = segment.lowerBound * hidden
                AttentionOp.forward(attentionLayout, query: queries.data + start, key: keys.data + start,
                                    value: values.data + start, output: attended.data + start, probabilities: p.data)
                return p
            }
            layer.output.forwardAdding(attended.data, rows: rows, into: x.data)
            let middle = x.copy()
            let normed2 = layer.postAttentionNorm.forward(x.data, rows: rows)
            let gate = layer.gate.forward(normed2.output.data, rows: rows)
            let up = layer.up.forward(normed2.output.data, rows: rows)
            let gateAndUp = Tensor(zeros: [rows, 2 * intermediate])
            for row in 0..<rows {
                gateAndUp.row(row).update(from: gate.row(row), count: intermediate)
                (gateAndUp.row(row) + intermediate).update(from: up.row(row), count: intermediate)
            }
            let activation = Tensor(zeros: [rows, intermediate])
            SiLUGateOp.forward(gateAndUp.data, rows: rows, width: intermediate, into: activation.data)
            layer.down.forwardAdding(activation.data, rows: rows, into: x.data)
            records.append(LayerRecord(
                input: input, inputNorm: normed, queries: queries, keys: keys, values: values,
                probabilities: probabilities, attended: attended, middle: middle, postAttentionNorm: normed2,
                gateAndUp: gateAndUp, activation: activation))
        }
        let normed = finalNorm.forward(x.data, rows: rows)
        let logits = lmHead.forward(normed.output.data, rows: rows)
        return (logits, Record(segments: segments, positions: positions, layers: records, beforeFinalNorm: x,
                               finalNorm: normed))
    }

    /// Adds the weight gradients and returns the gradient with respect to the embedded input.
    func backward(_ dLogits: Tensor, record: Record) -> Tensor {
        let rows = dLogits.rows, hidden = config.hiddenSize, intermediate = config.intermediateSize
        let heads = config.numAttentionHeads
        let dNormed = lmHead.backward(dLogits.data, x: record.finalNorm.output.data, rows: rows)
        let dx = Tensor(zeros: [rows, hidden])
        finalNorm.backward(dNormed.data, x: record.beforeFinalNorm.data, rows: rows,
                           inverseRMS: record.finalNorm.inverseRMS, dx: dx.data)
        for (layer, saved) in zip(layers, record.layers).reversed() {
            let dActivation = Tensor(zeros: [rows, intermediate])
            layer.down.backward(dx.data, x: saved.activation.data, rows: rows, dx: dActivation.data)
            let dGateAndUp = Tensor(zeros: [rows, 2 * intermediate])
            SiLUGateOp.backward(dActivation.data, gateAndUp: saved.gateAndUp.data, rows: rows, width: intermediate,
                                dGateAndUp: dGateAndUp.data)
            let dGate = Tensor(zeros: [rows, intermediate]), dUp = Tensor(zeros: [rows, intermediate])
            for row in 0..<rows {
                dGate.row(row).update(from: dGateAndUp.row(row), count: intermediate)
                dUp.row(row).update(from: dGateAndUp.row(row) + intermediate, count: intermediate)
            }
            let dNormed2 = Tensor(zeros: [rows, hidden])
            layer.gate.backward(dGate.data, x: saved.postAttentionNorm.output.data, rows: rows, dx: dNormed2.data)
            layer.up.backward(dUp.data, x: saved.postAttentionNorm.output.data, rows: rows, dx: dNormed2.data)
            layer.postAttentionNorm.backward(dNormed2.data, x: saved.middle.data, rows: rows,
                                             inverseRMS: saved.postAttentionNorm.inverseRMS, dx: dx.data)

            let dAttended = Tensor(zeros: [rows, hidden])
            layer.output.backward(dx.data, x: saved.attended.data, rows: rows, dx: dAttended.data)
            let dQueries = Tensor(zeros: [rows, hidden]), dKeys = Tensor(zeros: [rows, hidden])
            let dValues = Tensor(zeros: [rows, hidden])
            for (segment, probabilities) in zip(record.segments, saved.probabilities) {
                let start = segment.lowerBound * hidden
                AttentionOp.backward(layout(length: segment.count), dOutput: dAttended.data + start,
                                     query: saved.queries.data + start, key: saved.keys.data + start,
                                     value: saved.values.data + start, probabilities: probabilities.data,
                                     dQuery: dQueries.data + start, dKey: dKeys.data + start,
                                     dValue: dValues.data + start)
            }
            record.positions.withUnsafeBufferPointer { p in
                RotaryOp.backward(rotary, dQueries.data, rows: rows, rowStride: hidden, heads: heads,
                                  positions: p.baseAddress!)
                RotaryOp.backward(rotary, dKeys.data, rows: rows, rowStride: hidden, heads: heads,
                                  positions: p.baseAddress!)
            }
            let dNormed = Tensor(zeros: [rows, hidden])
            let normedInput = saved.inputNorm.output.data
            layer.query.backward(dQueries.data, x: normedInput, rows: rows, dx: dNormed.data)
            layer.key.backward(dKeys.data, x: normedInput, rows: rows, dx: dNormed.data)
            layer.value.backward(dValues.data, x: normedInput, rows: rows, dx: dNormed.data)
            layer.inputNorm.backward(dNormed.data, x: saved.input.data, rows: rows,
                                     inverseRMS: saved.inputNorm.inverseRMS, dx: dx.data)
        }
        return dx
    }
}

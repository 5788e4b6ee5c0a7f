import RadFM
import Tensor

/// RadFM's 3D ViT (`embedding_layer.vision_encoder`) with a backward pass: every block keeps the activations
/// its backward reads. Images are inputs, so the backward stops at the patch embedding's weights. In
/// training, dropout sits where RadFM's vit_3d.py puts it (see `DropoutDraw.Site`), with the config's rates.
struct VisionEncoderPass {
    struct Block {
        let attentionNorm: LayerNormLayer
        let qkv: LinearLayer
        let attentionOutput: LinearLayer
        let feedForwardNorm: LayerNormLayer
        let feedForwardIn: LinearLayer
        let feedForwardOut: LinearLayer
    }

    /// What one block's forward leaves for its backward.
    struct BlockRecord {
        let input: Tensor
        let attentionNorm: LayerNormRecord
        let qkv: Tensor
        let probabilities: Tensor
        let attended: Tensor
        let middle: Tensor
        let feedForwardNorm: LayerNormRecord
        let preActivation: Tensor
        /// GELU output after the hidden dropout: what the second feed-forward linear read.
        let activation: Tensor
        let probabilityDropout: DropoutMask?
        let attentionOutputDropout: DropoutMask?
        let hiddenDropout: DropoutMask?
        let feedForwardOutputDropout: DropoutMask?
    }

    /// What one image's forward leaves for its backward.
    struct Record {
        let grid: PatchGrid
        let patches: Tensor
        let inputNorm: LayerNormRecord
        let projected: Tensor
        let outputNorm: LayerNormRecord
        let embeddingDropout: DropoutMask?
        let blocks: [BlockRecord]
    }

    let config: RadFMConfig.Vision
    let inputNorm: LayerNormLayer
    let projection: LinearLayer
    let outputNorm: LayerNormLayer
    let rowTable: ParameterSlot
    let columnTable: ParameterSlot
    let depthTable: ParameterSlot
    let blocks: [Block]

    init(_ parameters: ParameterSet, config: RadFMConfig.Vision) throws {
        self.config = config
        let prefix = "embedding_layer.vision_encoder."
        let (dim, inner, third) = (config.dim, config.innerDim, config.dim / 3)
        inputNorm = try LayerNormLayer(parameters, prefix + "to_patch_embedding.1", dim: config.patchDim)
        projection = try LinearLayer(parameters, prefix + "to_patch_embedding.2", in: config.patchDim, out: dim, bias: true)
        outputNorm = try LayerNormLayer(parameters, prefix + "to_patch_embedding.3", dim: dim)
        rowTable = try ParameterSlot(parameters, prefix + "pos_embedding.row_embed.weight", count: config.spatialPositions * third)
        columnTable = try ParameterSlot(parameters, prefix + "pos_embedding.col_embed.weight", count: config.spatialPositions * third)
        depthTable = try ParameterSlot(parameters, prefix + "pos_embedding.dep_embed.weight", count: config.depthPositions * third)
        blocks = try (0..<config.depth).map { j in
            let layer = prefix + "transformer.layers.\(j)."
            return Block(
                attentionNorm: try LayerNormLayer(parameters, layer + "0.norm", dim: dim),
                qkv: try LinearLayer(parameters, layer + "0.fn.to_qkv", in: dim, out: 3 * inner, bias: false),
                attentionOutput: try LinearLayer(parameters, layer + "0.fn.to_out.0", in: inner, out: dim, bias: true),
                feedForwardNorm: try LayerNormLayer(parameters, layer + "1.norm", dim: dim),
                feedForwardIn: try LinearLayer(parameters, layer + "1.fn.net.0", in: dim, out: config.mlpDim, bias: true),
                feedForwardOut: try LinearLayer(parameters, layer + "1.fn.net.3", in: config.mlpDim, out: dim, bias: true))
        }
    }

    var positionTables: PositionEmbeddingOp.Tables {
        PositionEmbeddingOp.Tables(rows: config.spatialPositions, columns: config.spatialPositions,
                                   depths: config.depthPositions, width: config.dim / 3)
    }

    /// Features [patches, dim] of one [C, H, W, D] image, and the record for its backward. Dropout applies
    /// only with a draw (training), never in evaluation.
    func forward(_ image: Tensor, index: Int, dropout: DropoutDraw? = nil) throws -> (features: Tensor, record: Record) {
        let shape = image.shape
        let (p, pf) = (config.patchSize, config.framePatchSize)
        guard shape.count == 4, shape[0] == config.channels, shape[1] % p == 0, shape[2] % p == 0, shape[3] % pf == 0,
              shape[1] / p <= config.spatialPositions, shape[2] / p <= config.spatialPositions,
              shape[3] / pf <= config.depthPositions, shape[1] > 0, shape[2] > 0, shape[3] > 0
        else {
            throw RadFMModelError.imageShape(image: index, shape: shape,
                                             reason: "expected [\(config.channels), H, W, D] tiling the patch grid")
        }
        let grid = PatchGrid(h: shape[1] / p, w: shape[2] / p, d: shape[3] / pf)
        let tokens = grid.tokens, inner = config.innerDim
        let patches = Tensor(zeros: [tokens, config.patchDim])
        PatchifyOp.forward(image.data, channels: config.channels, height: shape[1], width: shape[2], depth: shape[3],
                           patch: p, framePatch: pf, into: patches.data)
        let normedPatches = inputNorm.forward(patches.data, rows: tokens)
        let projected = projection.forward(normedPatches.output.data, rows: tokens)
        let embedded = outputNorm.forward(projected.data, rows: tokens)
        let x = embedded.output.copy()
        PositionEmbeddingOp.forward(positionTables, rowTable: rowTable.values, columnTable: columnTable.values,
                                    depthTable: depthTable.values, grid: grid, tokens: x.data)
        let embeddingDropout = dropout?.mask(count: x.count, probability: config.embDropout, layer: 0, site: .embedding)
        embeddingDropout?.apply(x.data)

        var records: [BlockRecord] = []
        for (layer, block) in blocks.enumerated() {
            func mask(_ count: Int, _ site: DropoutDraw.Site) -> DropoutMask? {
                dropout?.mask(count: count, probability: config.dropout, layer: layer, site: site)
            }
            let input = x.copy()
            let normed = block.attentionNorm.forward(x.data, rows: tokens)
            let qkv = block.qkv.forward(normed.output.data, rows: tokens)
            let layout = selfAttentionLayout(tokens: tokens)
            let probabilities = Tensor(zeros: [layout.probabilityCount])
            let probabilityDropout = mask(layout.probabilityCount, .attentionProbabilities)
            let attended = Tensor(zeros: [tokens, inner])
            AttentionOp.forward(layout, query: qkv.data, key: qkv.data + inner, value: qkv.data + 2 * inner,
                                output: attended.data, probabilities: probabilities.data, dropout: probabilityDropout)
            let attentionOutputDropout = mask(x.count, .attentionOutput)
            Self.addBranch(block.attentionOutput, attended.data, rows: tokens, dropout: attentionOutputDropout, into: x)
            let middle = x.copy()
            let normed2 = block.feedForwardNorm.forward(x.data, rows: tokens)
            let preActivation = block.feedForwardIn.forward(normed2.output.data, rows: tokens)
            let activation = Tensor(zeros: preActivation.shape)
            GELUOp.forward(preActivation.data, count: preActivation.count, into: activation.data)
            let hiddenDropout = mask(activation.count, .feedForwardHidden)
            hiddenDropout?.apply(activation.data)
            let feedForwardOutputDropout = mask(x.count, .feedForwardOutput)
            Self.addBranch(block.feedForwardOut, activation.data, rows: tokens, dropout: feedForwardOutputDropout, into: x)
            records.append(BlockRecord(
                input: input, attentionNorm: normed, qkv: qkv, probabilities: probabilities, attended: attended,
                middle: middle, feedForwardNorm: normed2, preActivation: preActivation, activation: activation,
                probabilityDropout: probabilityDropout, attentionOutputDropout: attentionOutputDropout,
                hiddenDropout: hiddenDropout, feedForwardOutputDropout: feedForwardOutputDropout))
        }
        return (x, Record(grid: grid, patches: patches, inputNorm: normedPatches, projected: projected,
                          outputNorm: embedded, embeddingDropout: embeddingDropout, blocks: records))
    }

    /// The residual `x += dropout(layer(input))`.
    private static func addBranch(_ layer: LinearLayer, _ input: UnsafePointer<Float>, rows: Int, dropout: DropoutMask?,
                                  into x: Tensor) {
        guard let dropout else { return layer.forwardAdding(input, rows: rows, into: x.data) }
        let branch = layer.forward(input, rows: rows)
        withExtendedLifetime(branch) {
            dropout.apply(branch.data)
            VectorMath.add(branch.data, into: x.data, count: x.count)
        }
    }

    /// The gradient reaching a dropped residual branch's output: `dx * mask` (or dx itself without dropout).
    private static func branchGradient(_ dx: Tensor, dropout: DropoutMask?) -> Tensor {
        guard let dropout else { return dx }
        let dBranch = Tensor(zeros: dx.shape)
        dropout.apply(dx.data, into: dBranch.data)
        return dBranch
    }

    func selfAttentionLayout(tokens: Int) -> AttentionOp.Layout {
        let inner = config.innerDim
        return AttentionOp.Layout(queryCount: tokens, keyCount: tokens, heads: config.heads, headDim: config.dimHead,
                                  causal: false, queryStride: 3 * inner, keyStride: 3 * inner, valueStride: 3 * inner,
                                  outputStride: inner)
    }

    /// Adds the weight gradients for one image given the gradient of its features (consumed in place).
    func backward(_ dFeatures: Tensor, record: Record) {
        let tokens = record.grid.tokens, inner = config.innerDim
        let dx = dFeatures
        for (block, saved) in zip(blocks, record.blocks).reversed() {
            let dActivation = Tensor(zeros: saved.activation.shape)
            let dFeedForwardBranch = Self.branchGradient(dx, dropout: saved.feedForwardOutputDropout)
            withExtendedLifetime(dFeedForwardBranch) {
                block.feedForwardOut.backward(dFeedForwardBranch.data, x: saved.activation.data, rows: tokens,
                                              dx: dActivation.data)
            }
            saved.hiddenDropout?.apply(dActivation.data)
            let dPre = Tensor(zeros: saved.preActivation.shape)
            GELUOp.backward(dActivation.data, x: saved.preActivation.data, count: dPre.count, dx: dPre.data)
            let dNormed2 = block.feedForwardIn.backward(dPre.data, x: saved.feedForwardNorm.output.data, rows: tokens)
            block.feedForwardNorm.backward(dNormed2.data, x: saved.middle.data, rows: tokens,
                                           record: saved.feedForwardNorm, dx: dx.data)

            let dAttended = Tensor(zeros: saved.attended.shape)
            let dAttentionBranch = Self.branchGradient(dx, dropout: saved.attentionOutputDropout)
            withExtendedLifetime(dAttentionBranch) {
                block.attentionOutput.backward(dAttentionBranch.data, x: saved.attended.data, rows: tokens,
                                               dx: dAttended.data)
            }
            let dQKV = Tensor(zeros: saved.qkv.shape)
            AttentionOp.backward(selfAttentionLayout(tokens: tokens), dOutput: dAttended.data, query: saved.qkv.data,
                                 key: saved.qkv.data + inner, value: saved.qkv.data + 2 * inner,
                                 probabilities: saved.probabilities.data, dropout: saved.probabilityDropout,
                                 dQuery: dQKV.data,
                                 dKey: dQKV.data + inner, dValue: dQKV.data + 2 * inner)
            let dNormed = block.qkv.backward(dQKV.data, x: saved.attentionNorm.output.data, rows: tokens)
            block.attentionNorm.backward(dNormed.data, x: saved.input.data, rows: tokens, record: saved.attentionNorm,
                                         dx: dx.data)
        }
        record.embeddingDropout?.apply(dx.data)
        PositionEmbeddingOp.backward(positionTables, dTokens: dx.data, grid: record.grid,
                                     dRowTable: rowTable.gradient, dColumnTable: columnTable.gradient,
                                     dDepthTable: depthTable.gradient)
        let dProjected = Tensor(zeros: record.projected.shape)
        outputNorm.backward(dx.data, x: record.projected.data, rows: tokens, record: record.outputNorm,
                            dx: dProjected.data)
        let dNormedPatches = projection.backward(dProjected.data, x: record.inputNorm.output.data, rows: tokens)
        inputNorm.backward(dNormedPatches.data, x: record.patches.data, rows: tokens, record: record.inputNorm, dx: nil)
    }
}

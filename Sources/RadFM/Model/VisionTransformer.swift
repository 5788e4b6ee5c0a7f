import Tensor

/// One pre-norm ViT block: `x += to_out(attn(norm(x)))`, `x += net.3(gelu(net.0(norm(x))))`.
struct VisionBlock {
    let attentionNorm: LayerNorm
    let qkv: Linear
    let attentionOutput: Linear
    let feedForwardNorm: LayerNorm
    let feedForwardIn: Linear
    let feedForwardOut: Linear
    let heads: Int
    let headDim: Int

    init(_ registry: ParameterRegistry, config: RadFMConfig.Vision) {
        let attention = registry.scope("0"), feedForward = registry.scope("1")
        attentionNorm = LayerNorm(attention, "norm", dim: config.dim)
        qkv = Linear(attention, "fn.to_qkv", in: config.dim, out: 3 * config.innerDim, bias: false)
        attentionOutput = Linear(attention, "fn.to_out.0", in: config.innerDim, out: config.dim, bias: true)
        feedForwardNorm = LayerNorm(feedForward, "norm", dim: config.dim)
        feedForwardIn = Linear(feedForward, "fn.net.0", in: config.dim, out: config.mlpDim, bias: true)
        feedForwardOut = Linear(feedForward, "fn.net.3", in: config.mlpDim, out: config.dim, bias: true)
        heads = config.heads
        headDim = config.dimHead
    }

    /// Updates the tokens `x` [tokens, dim] in place; `workspace` holds buffers for `x.rows` tokens.
    func callAsFunction(_ x: Tensor, workspace: VisionWorkspace) {
        let tokens = x.rows, inner = heads * headDim
        let (normed, packed, attended, hidden) = (workspace.normed, workspace.packed, workspace.attended, workspace.hidden)
        attentionNorm(x.data, rows: tokens, into: normed.data)
        qkv(normed.data, rows: tokens, into: packed.data)
        Attention.multiHead(
            Attention.Operands(
                query: packed.data, queryStride: 3 * inner, key: packed.data + inner, keyStride: 3 * inner,
                value: packed.data + 2 * inner, valueStride: 3 * inner, output: attended.data,
                outputStride: inner, queryCount: tokens, keyCount: tokens),
            heads: heads, headDim: headDim, causal: false)
        attentionOutput(attended.data, rows: tokens, into: x.data, accumulate: true)

        feedForwardNorm(x.data, rows: tokens, into: normed.data)
        feedForwardIn(normed.data, rows: tokens, into: hidden.data)
        Activation.gelu(hidden.data, count: hidden.count)
        feedForwardOut(hidden.data, rows: tokens, into: x.data, accumulate: true)
    }
}

/// RadFM's 3D vision transformer (`embedding_layer.vision_encoder`): patch embedding, strided learned
/// position embedding, pre-norm blocks; no class token and no final norm.
public struct VisionTransformer {
    let config: RadFMConfig.Vision
    let patchEmbedding: PatchEmbedding
    let positionEmbedding: PositionEmbedding3D
    let blocks: [VisionBlock]

    init(_ registry: ParameterRegistry, config: RadFMConfig.Vision) {
        self.config = config
        patchEmbedding = PatchEmbedding(registry, config: config)
        positionEmbedding = PositionEmbedding3D(registry, config: config)
        let layers = registry.scope("transformer.layers")
        blocks = (0..<config.depth).map { VisionBlock(layers.scope("\($0)"), config: config) }
    }

    /// Token features [patches, dim] of one [C, H, W, D] image; `index` names the image in errors.
    public func callAsFunction(_ image: Tensor, index: Int = 0) throws -> Tensor {
        let grid = try patchEmbedding.grid(of: image, index: index)
        let x = patchEmbedding(image, grid: grid)
        positionEmbedding.add(to: x, grid: grid)
        let workspace = VisionWorkspace(tokens: x.rows, config: config)
        for block in blocks { block(x, workspace: workspace) }
        return x
    }
}

import Tensor

/// Activation buffers of one image's pass through the vision blocks, shared by all blocks.
///
/// A 64-slice volume's block temporaries are about 80 MB. malloc serves blocks above its mmap threshold
/// (32 MB at most) as fresh mappings, so allocated per block, the MLP's hidden layer would be mapped,
/// page-faulted and zeroed again in every block. Each buffer is completely overwritten before it is read,
/// so no block sees another's values.
struct VisionWorkspace {
    /// LayerNorm output [tokens, dim], before attention and again before the MLP.
    let normed: Tensor
    /// q, k, v side by side [tokens, 3 * inner].
    let packed: Tensor
    /// Attention output [tokens, inner], before `to_out`.
    let attended: Tensor
    /// MLP hidden layer [tokens, mlpDim].
    let hidden: Tensor

    init(tokens: Int, config: RadFMConfig.Vision) {
        normed = Tensor(zeros: [tokens, config.dim])
        packed = Tensor(zeros: [tokens, 3 * config.innerDim])
        attended = Tensor(zeros: [tokens, config.innerDim])
        hidden = Tensor(zeros: [tokens, config.mlpDim])
    }
}

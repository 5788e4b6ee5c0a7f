import Tensor

/// Activation buffers of one decoder call, shared by all of its layers.
///
/// A layer's temporaries for a 16 x 128-token prefill are about 220 MB. malloc serves blocks above its mmap
/// threshold (32 MB at most) as fresh mappings, so allocated per layer, the largest would be mapped,
/// page-faulted and zeroed again in every layer.
/// Each buffer is completely overwritten before it is read, so no layer sees another's values.
struct LlamaWorkspace {
    /// RMSNorm output [rows, hidden], before attention and again before the MLP.
    let normed: Tensor
    /// q, k, v side by side [rows, 3 * hidden], rotated in place.
    let packed: Tensor
    /// Attention output [rows, hidden], before `o_proj`.
    let attended: Tensor
    /// `[gate | up]` [rows, 2 * intermediate].
    let gateAndUp: Tensor
    /// `silu(gate) * up` [rows, intermediate], before `down_proj`.
    let activated: Tensor

    init(rows: Int, config: RadFMConfig.Text) {
        let (hidden, intermediate) = (config.hiddenSize, config.intermediateSize)
        normed = Tensor(zeros: [rows, hidden])
        packed = Tensor(zeros: [rows, 3 * hidden])
        attended = Tensor(zeros: [rows, hidden])
        gateAndUp = Tensor(zeros: [rows, 2 * intermediate])
        activated = Tensor(zeros: [rows, intermediate])
    }
}

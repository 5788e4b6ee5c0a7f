import CKernels

/// Element-wise activations, in place over contiguous buffers. The loops are C (`elementwise.c`): the
/// AVX-512 path runs 16 lanes with masked tails, where Swift's SIMD types compile to pairs of SSE
/// operations on the baseline x86-64 target.
public enum Activation {
    /// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))`: PyTorch's `nn.GELU()` default, not the tanh variant.
    /// erf is Abramowitz-Stegun 7.1.26 (absolute error below 1.5e-7), the same formula PyTorch's
    /// vectorised CPU kernel uses.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forEachChunk(count, minimumChunk: 1 << 15) { range in
            radfm_gelu(x + range.lowerBound, range.count)
        }
    }

    /// LLaMA's gated MLP activation over a [rows, 2 * width] matrix whose rows are `[gate | up]`:
    /// writes `silu(gate) * up` into `output` [rows, width].
    public static func siluGate(
        _ gateAndUp: UnsafePointer<Float>, rows: Int, width: Int, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, (1 << 15) / max(width, 1))) { range in
            radfm_silu_gate(gateAndUp + range.lowerBound * 2 * width, range.count, width,
                            output + range.lowerBound * width)
        }
    }
}

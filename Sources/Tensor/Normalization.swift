import CKernels

/// Row-wise normalisations over [rows, dim] matrices. `input` and `output` may be the same buffer.
/// The row loops are C (`elementwise.c`, AVX-512 when the CPU has it).
public enum Normalization {
    /// PyTorch `nn.LayerNorm`: biased variance, affine weight and bias.
    public static func layerNorm(
        _ input: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, epsilon: Float, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(dim, 1))) { range in
            radfm_layer_norm_rows(input + range.lowerBound * dim, range.count, dim, weight, bias, epsilon,
                                  output + range.lowerBound * dim)
        }
    }

    /// LLaMA's RMSNorm: `x / sqrt(mean(x^2) + eps) * weight`.
    public static func rmsNorm(
        _ input: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>,
        epsilon: Float, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(dim, 1))) { range in
            radfm_rms_norm_rows(input + range.lowerBound * dim, range.count, dim, weight, epsilon,
                                output + range.lowerBound * dim)
        }
    }
}

import Foundation

/// Row-wise normalisations over [rows, dim] matrices. `input` and `output` may be the same buffer.
public enum Normalization {
    /// PyTorch `nn.LayerNorm`: biased variance, affine weight and bias.
    public static func layerNorm(
        _ input: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>, epsilon: Float, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(dim, 1))) { range in
            for row in range {
                let x = input + row * dim
                let y = output + row * dim
                let mean = VectorMath.sum(x, dim) / Float(dim)
                // Two passes (mean, then squared deviations) keep precision for 12288-wide patch rows.
                let inverse = 1 / (VectorMath.squaredDeviations(x, from: mean, dim) / Float(dim) + epsilon).squareRoot()
                VectorMath.affine(x, shift: mean, scale: inverse, weight: weight, bias: bias, into: y, dim)
            }
        }
    }

    /// LLaMA's RMSNorm: `x / sqrt(mean(x^2) + eps) * weight`.
    public static func rmsNorm(
        _ input: UnsafePointer<Float>, rows: Int, dim: Int, weight: UnsafePointer<Float>,
        epsilon: Float, into output: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(rows, minimumChunk: max(1, 32_768 / max(dim, 1))) { range in
            for row in range {
                let x = input + row * dim
                let y = output + row * dim
                let meanSquare = VectorMath.dot(x, x, dim) / Float(dim)
                let inverse = 1 / (meanSquare + epsilon).squareRoot()
                VectorMath.affine(x, shift: 0, scale: inverse, weight: weight, bias: nil, into: y, dim)
            }
        }
    }
}

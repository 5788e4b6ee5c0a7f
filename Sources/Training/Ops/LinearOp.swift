import Tensor

/// `nn.Linear` forward and backward: `y = x W^T + b` with W in PyTorch's [out, in] layout.
/// Backward passes add into their gradient buffers (residual branches and shared weights sum there);
/// a nil gradient buffer is a frozen or input-less operand and costs nothing.
public enum LinearOp {
    public static func forward(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, weight: UnsafePointer<Float>, outFeatures: Int,
        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>
    ) {
        Matmul.linear(x, rows: rows, inFeatures: inFeatures, weight: weight, outFeatures: outFeatures, bias: bias,
                      into: y)
    }

    public static func backward(
        _ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int,
        dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?
    ) {
        if let dx {
            Matmul.gemm(m: rows, n: inFeatures, k: outFeatures, a: dy, lda: outFeatures, b: weight, ldb: inFeatures,
                        beta: 1, c: dx, ldc: inFeatures)
        }
        if let dWeight {
            Matmul.gemm(transposeA: true, m: outFeatures, n: inFeatures, k: rows, a: dy, lda: outFeatures, b: x,
                        ldb: inFeatures, beta: 1, c: dWeight, ldc: inFeatures)
        }
        if let dBias {
            for row in 0..<rows { VectorMath.addScaled(dy + row * outFeatures, 1, into: dBias, outFeatures) }
        }
    }
}

import COpenBLAS

/// Matrix products through OpenBLAS. Weights stay in PyTorch's [out, in] layout and are fed to sgemm
/// transposed, so checkpoints load without any re-layout.
public enum Matmul {
    /// `c[m, n] = alpha * op(a) * op(b) + beta * c`, row-major, with explicit leading dimensions so that
    /// callers can multiply column blocks of wider matrices (one head of a packed QKV projection).
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    /// `y[rows, outFeatures] = x[rows, inFeatures] * weight^T (+ bias)`, PyTorch's `nn.Linear`, with
    /// `weight` laid out [outFeatures, inFeatures]. With `accumulate` the product is added to `y`, which
    /// folds a residual connection into the BLAS call (beta = 1) instead of a separate pass.
    ///
    /// A single row goes through sgemv, OpenBLAS's bandwidth-bound kernel. Up to `SkinnyLinear.maximumRows`
    /// rows (decode steps of a batch) go through `SkinnyLinear`, which streams the weight once instead of
    /// letting sgemm pack all of it on every call. Larger products use sgemm's packed kernel.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, outFeatures: Int, bias: UnsafePointer<Float>? = nil,
        accumulate: Bool = false, into y: UnsafeMutablePointer<Float>
    ) {
        if rows == 1 {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(outFeatures), blasint(inFeatures), 1, weight,
                        blasint(inFeatures), x, 1, accumulate ? 1 : 0, y, 1)
        } else if rows <= SkinnyLinear.maximumRows {
            SkinnyLinear.apply(x, rows: rows, inFeatures: inFeatures, weight: weight, outFeatures: outFeatures,
                               accumulate: accumulate, into: y)
        } else {
            gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                 b: weight, ldb: inFeatures, beta: accumulate ? 1 : 0, c: y, ldc: outFeatures)
        }
        if let bias {
            Parallel.forEachChunk(rows, minimumChunk: max(1, 65_536 / max(outFeatures, 1))) { range in
                for row in range {
                    let out = y + row * outFeatures
                    for j in 0..<outFeatures { out[j] += bias[j] }
                }
            }
        }
    }
}

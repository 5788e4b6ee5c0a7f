import COpenBLAS

/// Matrix products through OpenBLAS. Weights stay in PyTorch's [out, in] layout and are fed to sgemm
/// transposed, so checkpoints load without any re-layout.
///
/// OpenBLAS runs single-threaded and products are split over the cores by `Parallel`, the same threads as
/// every other kernel. With OpenBLAS's own threads, its idle workers spin on `sched_yield` after each call
/// and take the cores from the norms, softmax and GELU that run between products (a quarter of the
/// vision encoder's samples were in `sched_yield`).
public enum Matmul {
    /// Products below this many multiply-adds run on the calling thread: a dispatch costs microseconds.
    static let minimumParallelWork = 1 << 22

    /// Columns (or rows) per chunk are a multiple of this, so every chunk keeps sgemm's full-width tiles.
    static let chunkAlignment = 16

    private static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// `c[m, n] = alpha * op(a) * op(b) + beta * c`, row-major, with explicit leading dimensions so that
    /// callers can multiply column blocks of wider matrices (one head of a packed QKV projection).
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        _ = singleThreadedBLAS
        let call = { (rows: Range<Int>, columns: Range<Int>) in
            let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
            let bStart = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
            cblas_sgemm(
                CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                blasint(rows.count), blasint(columns.count), blasint(k), alpha, aStart, blasint(lda),
                bStart, blasint(ldb), beta, c + rows.lowerBound * ldc + columns.lowerBound, blasint(ldc))
        }
        // Split the longer side of C, so each chunk still packs a large panel.
        let splitColumns = n >= m
        let (blocks, minimumBlocks) = chunking(m: m, n: n, k: k)
        Parallel.forEachChunk(blocks, minimumChunk: minimumBlocks) { chunk in
            let lower = chunk.lowerBound * chunkAlignment
            if splitColumns {
                call(0..<m, lower..<min(n, chunk.upperBound * chunkAlignment))
            } else {
                call(lower..<min(m, chunk.upperBound * chunkAlignment), 0..<n)
            }
        }
    }

    /// Whether `gemm` of this size runs on the calling thread alone. Callers with many such products
    /// (attention heads) run them side by side instead, with the same sums as one after another.
    public static func runsOnOneThread(m: Int, n: Int, k: Int) -> Bool {
        let (blocks, minimumBlocks) = chunking(m: m, n: n, k: k)
        return Parallel.chunkCount(blocks, minimumChunk: minimumBlocks) == 1
    }

    /// Blocks of `chunkAlignment` along the longer side of C, and how many of them make enough work for
    /// one thread.
    private static func chunking(m: Int, n: Int, k: Int) -> (blocks: Int, minimumBlocks: Int) {
        let blocks = (max(m, n) + chunkAlignment - 1) / chunkAlignment
        return (blocks, max(1, minimumParallelWork / max(1, m * n * max(k, 1) / blocks)))
    }

    /// `y[rows, outFeatures] = x[rows, inFeatures] * weight^T (+ bias)`, PyTorch's `nn.Linear`, with
    /// `weight` laid out [outFeatures, inFeatures] and its rows `weightStride` floats apart (`inFeatures`
    /// when nil; inference models pad their projections, see `BroadcastLinear.paddedRowStride`). With
    /// `accumulate` the product is added to `y`, which folds a residual connection into the product
    /// instead of a separate pass.
    ///
    /// The product goes to the fastest of three kernels for its row count: `BroadcastLinear` (decode
    /// batches, short prompts and a 4-slice image's tokens over padded weights), `SkinnyLinear` (a few rows,
    /// or unpadded weights up to `SkinnyLinear.maximumRows`: both stream the weight once instead of letting
    /// sgemm pack all of it on every call), and sgemm's packed kernel for everything larger.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int,
        weight: UnsafePointer<Float>, weightStride: Int? = nil, outFeatures: Int, bias: UnsafePointer<Float>? = nil,
        accumulate: Bool = false, into y: UnsafeMutablePointer<Float>
    ) {
        let stride = weightStride ?? inFeatures
        precondition(stride >= inFeatures, "weight row stride \(stride) is shorter than its \(inFeatures) inputs")
        if BroadcastLinear.handles(rows: rows, weightStride: stride) {
            // The kernel adds the bias as it stores each sum: no pass over y afterwards.
            BroadcastLinear.apply(x, rows: rows, inFeatures: inFeatures, weight: weight, weightStride: stride,
                                  outFeatures: outFeatures, bias: bias, accumulate: accumulate, into: y)
            return
        }
        if rows <= SkinnyLinear.maximumRows {
            SkinnyLinear.apply(x, rows: rows, inFeatures: inFeatures, weight: weight, weightStride: stride,
                               outFeatures: outFeatures, accumulate: accumulate, into: y)
        } else {
            gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                 b: weight, ldb: stride, beta: accumulate ? 1 : 0, c: y, ldc: outFeatures)
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

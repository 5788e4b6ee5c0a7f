import CKernels

/// `nn.Linear` for a handful of rows (decode steps of a batch, the perceiver's 32 latents), streaming the
/// weight once.
///
/// OpenBLAS 0.3.21's sgemm packs the whole [out, in] weight on every call, so at 2-32 rows it reads
/// the weight several times and is slower than the product itself needs; one gemv per row reads it
/// once per row. This kernel (C, AVX-512 chosen at run time) reads each weight row once for all rows,
/// so a decode step at batch 16 costs little more than at batch 1: both are bound by weight bandwidth.
public enum SkinnyLinear {
    /// Above this many rows sgemm's packing pays for itself and OpenBLAS is faster. Measured with both
    /// cores on the model's shapes (perceiver 32 latents x 768/3072 wide, LLM 2048/5632 wide): at 32 rows
    /// this kernel is 1.24-1.54x sgemm on every shape, at 48-64 rows it wins on some and loses on others,
    /// at 96-128 sgemm wins.
    public static let maximumRows = 32

    /// Weights per thread below which splitting a weight-bound product costs more than it saves (~1 MB).
    private static let minimumWeightsPerThread = 1 << 18

    /// Rows up to which a product is bound by streaming the weight, so its time hardly grows with the rows;
    /// past them the arithmetic grows with every row, and smaller weights are worth splitting (the
    /// perceiver's 768 x 512 projections over 32 latents ran on one thread).
    static let streamingRows = 4

    /// Output features a thread gets at least, so that its share is worth a dispatch; `BroadcastLinear`
    /// splits by the same rule.
    static func minimumFeaturesPerThread(rows: Int, inFeatures: Int) -> Int {
        max(4, minimumWeightsPerThread / max(inFeatures * max(1, rows / streamingRows), 1))
    }

    /// `y[rows, outFeatures] (+)= x[rows, inFeatures] * weight^T`, weight laid out [outFeatures, inFeatures]
    /// with rows `weightStride` floats apart.
    public static func apply(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, weight: UnsafePointer<Float>, weightStride: Int,
        outFeatures: Int, accumulate: Bool, into y: UnsafeMutablePointer<Float>
    ) {
        guard rows > 0, outFeatures > 0 else { return }
        let minimumChunk = minimumFeaturesPerThread(rows: rows, inFeatures: inFeatures)
        Parallel.forEachChunk(outFeatures, minimumChunk: minimumChunk) { range in
            radfm_skinny_linear(x, rows, inFeatures, weight, weightStride, outFeatures, range.lowerBound,
                                range.upperBound, accumulate ? 1 : 0, y)
        }
    }
}

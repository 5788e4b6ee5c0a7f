import CKernels

/// `nn.Linear` for a moderate number of rows (decode batches, short prompts, a 4-slice image's tokens)
/// over weights stored with padded rows (`paddedRowStride`).
///
/// x is packed k-major once (its row groups split over the cores), and every thread then reads its share
/// of weight rows straight from memory as broadcast operands of 16-row FMAs. Against `SkinnyLinear` that
/// drops the horizontal sums and the reloading of x rows; against sgemm it drops the re-packing of the
/// whole weight (from DRAM) that OpenBLAS 0.3.21 does on every call.
public enum BroadcastLinear {
    /// Rows for which this kernel beats both alternatives: below it `SkinnyLinear` (a row or a few: bound
    /// by weight bandwidth either way), above it sgemm, whose packing then pays for itself. Measured with
    /// both cores, weights from DRAM: 1.3-2.0x sgemm at 9-64 rows, about 1.1x at 128 and 192, but 0.74x
    /// at 80, where x's second 64-row group is mostly zero padding. At 256 rows (the vision encoder's
    /// tokens for a 4-slice image; a 256-token prompt) the assembly 64-row tile leads too, interleaved
    /// in one process, median GF/s against sgemm: 144 / 120 and 145 / 135 (in 768, out 2304), 137 / 125
    /// (768 by 2048), 141 / 133 (2048 by 768), 134 / 123, 172 / 163 (2048 by 5628), 174 / 152 (5632 by
    /// 2048); at 384 and 512 rows it is level or behind, so sgemm keeps those.
    public static let rowRange = 9...256

    /// Packing below this many floats per thread stays on the calling thread: a dispatch costs
    /// microseconds, about what packing 32 K floats takes.
    static let minimumPackedFloatsPerThread = 1 << 15

    /// Past 64 rows x is packed in groups of 64 and the last group is padded with zero rows; at most this
    /// fraction of the arithmetic may go to padding, or sgemm is faster (80 rows compute 128).
    static let maximumPaddedFraction = 0.125

    /// The row stride (floats) to store an [out, inFeatures] weight with: the smallest one of at least
    /// `inFeatures` that `radfm_broadcast_stride_spreads_rows` accepts. The kernel reads a tile of
    /// weight rows in lockstep; rows whose length is a multiple of 4 KB (LLaMA's 2048 and 5632 among
    /// them) put all of a tile's current lines into one L1 set, which evicts them before their 16
    /// broadcasts are done and measured 0.65x of the padded speed.
    public static func paddedRowStride(for inFeatures: Int) -> Int {
        var padded = (inFeatures + 15) / 16 * 16
        while radfm_broadcast_stride_spreads_rows(padded) == 0 { padded += 16 }
        return padded
    }

    /// Whether `apply` runs for this product here: the row count is in range and fills its packed groups,
    /// the CPU has AVX-512 and the weight rows are spread over L1 sets.
    public static func handles(rows: Int, weightStride: Int) -> Bool {
        guard rowRange.contains(rows), radfm_broadcast_linear_supported(weightStride) != 0 else { return false }
        // Within one group the product is bound by the weight stream, so padding rows costs nothing.
        let packedRows = radfm_broadcast_packed_count(rows, 1)
        return packedRows == radfm_broadcast_group_rows(rows)
            || Double(packedRows - rows) <= maximumPaddedFraction * Double(packedRows)
    }

    /// `y[rows, outFeatures] (+)= x[rows, inFeatures] * weight^T (+ bias)`, weight laid out
    /// [outFeatures, inFeatures] with rows `weightStride` floats apart. Only when
    /// `handles(rows:weightStride:)`.
    public static func apply(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, weight: UnsafePointer<Float>, weightStride: Int,
        outFeatures: Int, bias: UnsafePointer<Float>? = nil, accumulate: Bool, into y: UnsafeMutablePointer<Float>
    ) {
        precondition(handles(rows: rows, weightStride: weightStride), "broadcast linear cannot run \(rows) rows")
        guard outFeatures > 0 else { return }
        // The calling thread's scratch: it stays in forEachChunk while the workers fill and read it.
        guard let packed = radfm_broadcast_scratch(radfm_broadcast_packed_count(rows, inFeatures)) else {
            fatalError("cannot allocate \(rows) x \(inFeatures) floats of packed activations")
        }
        // Packing is a transposing pass over x; on the calling thread alone it left the other core idle
        // (2.35 % of vision x4's samples, 4 groups of 64 rows per product; packing over both cores took
        // 0.966x the time over 150 interleaved pairs).
        let groupFloats = max(radfm_broadcast_group_rows(rows) * inFeatures, 1)
        Parallel.forEachChunk(radfm_broadcast_group_count(rows),
                              minimumChunk: max(1, minimumPackedFloatsPerThread / groupFloats)) { groups in
            radfm_broadcast_pack(x, rows, inFeatures, inFeatures, packed, groups.lowerBound, groups.upperBound)
        }
        // At least one tile of 24 weight rows per thread.
        let minimumChunk = max(24, SkinnyLinear.minimumFeaturesPerThread(rows: rows, inFeatures: inFeatures))
        Parallel.forEachChunk(outFeatures, minimumChunk: minimumChunk) { range in
            radfm_broadcast_linear(packed, rows, inFeatures, weight, weightStride, bias, range.lowerBound,
                                   range.upperBound, accumulate ? 1 : 0, y, outFeatures)
        }
    }
}

import COpenBLAS

/// `y[rows, out] (+)= x[rows, in] * W^T` for a handful of rows, reading the weight matrix once.
///
/// Decode steps multiply a few token rows by large weight matrices. OpenBLAS packs the whole weight
/// matrix on every sgemm call, which for few rows costs more than the arithmetic (on this class of CPU,
/// 16 rows through sgemm take about as long as 16 separate gemv calls), and its gemv reads the weights
/// once per row. Here every weight row is loaded once and multiplied with all input rows while it sits in
/// L1, so batch-16 decoding costs little more memory traffic than batch 1.
enum SkinnyMatmul {
    /// Largest row count routed here; above it sgemm's blocking wins.
    static let maximumRows = 24

    static func multiply(
        _ x: UnsafePointer<Float>, rows: Int, inFeatures: Int, weight: UnsafePointer<Float>, outFeatures: Int,
        accumulate: Bool, into y: UnsafeMutablePointer<Float>
    ) {
        if rows == 1 {
            // One row: OpenBLAS's gemv is bandwidth-bound already and uses the widest vector unit.
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(outFeatures), blasint(inFeatures), 1, weight,
                        blasint(inFeatures), x, 1, accumulate ? 1 : 0, y, 1)
            return
        }
        Parallel.forEachChunk(outFeatures, minimumChunk: 64) { outputs in
            for j in outputs {
                let w = weight + j * inFeatures
                var row = 0
                while row + 4 <= rows {
                    let dots = dot4(w, x + row * inFeatures, inFeatures)
                    store(dots.0, y + row * outFeatures + j, accumulate)
                    store(dots.1, y + (row + 1) * outFeatures + j, accumulate)
                    store(dots.2, y + (row + 2) * outFeatures + j, accumulate)
                    store(dots.3, y + (row + 3) * outFeatures + j, accumulate)
                    row += 4
                }
                while row < rows {
                    store(VectorMath.dot(w, x + row * inFeatures, inFeatures), y + row * outFeatures + j, accumulate)
                    row += 1
                }
            }
        }
    }

    @inline(__always)
    static func store(_ value: Float, _ destination: UnsafeMutablePointer<Float>, _ accumulate: Bool) {
        destination.pointee = accumulate ? destination.pointee + value : value
    }

    /// Dot products of one weight row with four consecutive input rows (stride `count`), sharing each
    /// weight load across the four.
    @inline(__always)
    static func dot4(
        _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int
    ) -> (Float, Float, Float, Float) {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        let x1 = x + count, x2 = x + 2 * count, x3 = x + 3 * count
        var k = 0
        while k + 8 <= count {
            let wv = UnsafeRawPointer(w + k).loadUnaligned(as: SIMD8<Float>.self)
            a0 += wv * UnsafeRawPointer(x + k).loadUnaligned(as: SIMD8<Float>.self)
            a1 += wv * UnsafeRawPointer(x1 + k).loadUnaligned(as: SIMD8<Float>.self)
            a2 += wv * UnsafeRawPointer(x2 + k).loadUnaligned(as: SIMD8<Float>.self)
            a3 += wv * UnsafeRawPointer(x3 + k).loadUnaligned(as: SIMD8<Float>.self)
            k += 8
        }
        var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
        while k < count {
            s0 += w[k] * x[k]
            s1 += w[k] * x1[k]
            s2 += w[k] * x2[k]
            s3 += w[k] * x3[k]
            k += 1
        }
        return (s0, s1, s2, s3)
    }
}

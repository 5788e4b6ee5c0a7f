import CKernels
import XCTest
@testable import Tensor

/// `Matmul.linear` sends each product to BroadcastLinear, SkinnyLinear or sgemm by its row count and the
/// weight's row stride: every route must give sgemm's result for padded weights, at the row counts on
/// both sides of each boundary, with the features split over threads, the bias added once (by the
/// broadcast kernel as it stores, by a pass over y on the other routes).
final class LinearDispatchTests: XCTestCase {
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 5 + seed * 11) * 0.41)) }
    }

    func testPaddedWeightsGiveSgemmsResultOnEveryRoute() {
        let (inFeatures, outFeatures) = (1_030, 611)
        let stride = BroadcastLinear.paddedRowStride(for: inFeatures)
        XCTAssertGreaterThan(stride, inFeatures)
        let dense = values(outFeatures * inFeatures, seed: 3)
        var padded = [Float](repeating: .nan, count: outFeatures * stride)
        for o in 0..<outFeatures {
            for i in 0..<inFeatures { padded[o * stride + i] = dense[o * inFeatures + i] }
        }
        let bias = values(outFeatures, seed: 9)
        let lower = BroadcastLinear.rowRange.lowerBound, upper = BroadcastLinear.rowRange.upperBound
        for rows in [1, lower - 1, lower, 16, SkinnyLinear.maximumRows + 1, 80, 128, upper, upper + 1] {
            let x = values(rows * inFeatures, seed: rows)
            let residual = values(rows * outFeatures, seed: 7)
            var expected = (0..<residual.count).map { residual[$0] + bias[$0 % outFeatures] }
            Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                        b: dense, ldb: inFeatures, beta: 1, c: &expected, ldc: outFeatures)
            var magnitude = (0..<residual.count).map { abs(residual[$0]) + abs(bias[$0 % outFeatures]) }
            Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x.map(abs), lda: inFeatures,
                        b: dense.map(abs), ldb: inFeatures, beta: 1, c: &magnitude, ldc: outFeatures)
            var y = residual
            Matmul.linear(x, rows: rows, inFeatures: inFeatures, weight: padded, weightStride: stride,
                          outFeatures: outFeatures, bias: bias, accumulate: true, into: &y)
            let worst = (0..<y.count).map { abs(y[$0] - expected[$0]) / max(magnitude[$0], 1e-30) }.max() ?? .nan
            XCTAssertLessThan(worst, 1e-5, "rows \(rows): largest difference relative to the sum of absolute products")
        }
    }
}

final class BroadcastLinearRoutingTests: XCTestCase {
    /// Which products the broadcast kernel takes: padded weights, 9 to 256 rows, and past one 64-row
    /// group only when the zero rows padding the last group stay a small part of the work.
    func testBroadcastKernelTakesPaddedProductsThatFillTheirRowGroups() throws {
        try XCTSkipUnless(radfm_broadcast_linear_supported(2_064) != 0, "no AVX-512 here: sgemm and SkinnyLinear take all")
        let padded = BroadcastLinear.paddedRowStride(for: 2_048)
        for rows in [9, 13, 16, 17, 32, 50, 64, 120, 128, 180, 192, 240, 256] {
            XCTAssertTrue(BroadcastLinear.handles(rows: rows, weightStride: padded), "\(rows) rows")
        }
        for rows in [1, 8, 65, 80, 100, 129, 160, 193, 257, 512] {
            XCTAssertFalse(BroadcastLinear.handles(rows: rows, weightStride: padded), "\(rows) rows")
        }
        XCTAssertFalse(BroadcastLinear.handles(rows: 16, weightStride: 2_048), "rows 8 KB apart share L1 sets")
        XCTAssertFalse(BroadcastLinear.handles(rows: 16, weightStride: 768))
    }
}

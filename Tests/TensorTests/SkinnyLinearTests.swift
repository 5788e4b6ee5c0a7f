import CKernels
import XCTest
@testable import Tensor

/// The weight-streaming kernel against OpenBLAS sgemm on shapes that hit every SIMD and tile remainder.
/// Both sum the same products in different orders, so they agree to float rounding: within 1e-5 of the
/// sum of absolute products (a bound that a wrong index or a dropped tail breaks by orders of magnitude).
final class SkinnyLinearTests: XCTestCase {
    typealias Kernel = (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Int, Int, Int, Int, Int32,
                        UnsafeMutablePointer<Float>) -> Void

    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed * 13) * 0.37)) }
    }

    /// Checks `kernel` on x[rows, inFeatures] * w^T for output features `begin..<end`, leaving the rest of y
    /// alone. With `rowPadding` the weight rows sit `inFeatures + rowPadding` floats apart, the pads holding
    /// NaN so that reading one shows.
    func check(rows: Int, inFeatures: Int, outFeatures: Int, begin: Int, end: Int, accumulate: Bool,
               rowPadding: Int = 0, kernel: Kernel, file: StaticString = #filePath, line: UInt = #line) {
        let x = values(rows * inFeatures, seed: rows + inFeatures)
        let w = values(outFeatures * inFeatures, seed: outFeatures)
        let stride = inFeatures + rowPadding
        var padded = [Float](repeating: .nan, count: outFeatures * stride)
        for o in 0..<outFeatures {
            for i in 0..<inFeatures { padded[o * stride + i] = w[o * inFeatures + i] }
        }
        let initial = values(rows * outFeatures, seed: 99)
        var expected = accumulate ? initial : [Float](repeating: 0, count: rows * outFeatures)
        Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                    b: w, ldb: inFeatures, beta: accumulate ? 1 : 0, c: &expected, ldc: outFeatures)
        var y = initial
        kernel(x, rows, inFeatures, padded, stride, outFeatures, begin, end, accumulate ? 1 : 0, &y)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                let index = r * outFeatures + o
                guard (begin..<end).contains(o) else {
                    XCTAssertEqual(y[index], initial[index], "row \(r) feature \(o) outside the range was written",
                                   file: file, line: line)
                    continue
                }
                var magnitude: Float = accumulate ? abs(initial[index]) : 0
                for i in 0..<inFeatures { magnitude += abs(x[r * inFeatures + i] * w[o * inFeatures + i]) }
                XCTAssertEqual(y[index], expected[index], accuracy: 1e-5 * magnitude + 1e-6,
                               "rows \(rows) in \(inFeatures) out \(outFeatures): [\(r), \(o)]", file: file, line: line)
            }
        }
    }

    func testDispatchedKernelMatchesSgemmOnOddShapes() {
        for rows in [1, 2, 3, 4, 5, 7, 8, 13, 16, 20, 32] {
            for inFeatures in [1, 3, 15, 16, 17, 33, 130] {
                for outFeatures in [1, 3, 4, 5, 9, 38] {
                    check(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, begin: 0, end: outFeatures,
                          accumulate: false, kernel: radfm_skinny_linear)
                }
            }
        }
    }

    func testPortableKernelMatchesSgemmOnOddShapes() {
        for rows in [1, 3, 4, 6, 16] {
            for inFeatures in [1, 17, 130] {
                for outFeatures in [1, 5, 38] {
                    check(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, begin: 0, end: outFeatures,
                          accumulate: false, kernel: radfm_skinny_linear_portable)
                }
            }
        }
    }

    /// The AVX-512 path splits the inner dimension into passes of 1024 and the rows into groups of 16: sums
    /// must carry across pass and group boundaries, including a tail shorter than a vector after them.
    func testKernelCarriesSumsAcrossInnerPassesAndRowGroups() {
        for rows in [1, 4, 16, 17, 33] {
            for inFeatures in [1_024, 1_025, 2_071] {
                for outFeatures in [5, 9] {
                    check(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, begin: 0, end: outFeatures,
                          accumulate: rows % 2 == 1, kernel: radfm_skinny_linear)
                }
            }
        }
    }

    func testKernelsReadPaddedWeightRowsAtTheirStrideAndNeverThePads() {
        for kernel in [radfm_skinny_linear, radfm_skinny_linear_portable] as [Kernel] {
            for (rows, inFeatures) in [(1, 56), (4, 2_048), (16, 130), (7, 1_040)] {
                check(rows: rows, inFeatures: inFeatures, outFeatures: 13, begin: 0, end: 13, accumulate: false,
                      rowPadding: 16 - inFeatures % 16 + 16, kernel: kernel)
            }
        }
    }

    /// A decode step at batch 1 takes its own single-row loop; its sums must be bit for bit those the same
    /// row gets inside a batch, so a study's output does not depend on what it was batched with.
    func testOneRowAloneGivesTheSameBitsAsInsideABatch() {
        let (inFeatures, outFeatures, rows) = (2_071, 37, 6)
        let x = values(rows * inFeatures, seed: 4), w = values(outFeatures * inFeatures, seed: 8)
        var batched = [Float](repeating: 0, count: rows * outFeatures)
        radfm_skinny_linear(x, rows, inFeatures, w, inFeatures, outFeatures, 0, outFeatures, 0, &batched)
        for row in 0..<rows {
            var alone = [Float](repeating: 0, count: outFeatures)
            Array(x[row * inFeatures..<(row + 1) * inFeatures]).withUnsafeBufferPointer { single in
                radfm_skinny_linear(single.baseAddress!, 1, inFeatures, w, inFeatures, outFeatures, 0, outFeatures, 0,
                                    &alone)
            }
            XCTAssertEqual(alone.map(\.bitPattern), batched[row * outFeatures..<(row + 1) * outFeatures].map(\.bitPattern),
                           "row \(row)")
        }
    }

    func testKernelWritesOnlyItsFeatureRangeAndCanAccumulate() {
        for kernel in [radfm_skinny_linear, radfm_skinny_linear_portable] as [Kernel] {
            check(rows: 6, inFeatures: 37, outFeatures: 23, begin: 5, end: 18, accumulate: true, kernel: kernel)
            check(rows: 16, inFeatures: 64, outFeatures: 10, begin: 9, end: 10, accumulate: false, kernel: kernel)
        }
    }

    /// Shapes large enough that `Matmul.linear` splits the features over threads, at every row count
    /// it sends to the kernel and one past, which goes to sgemm.
    func testLinearMatchesSgemmWhenSplitOverThreads() {
        let (inFeatures, outFeatures) = (301, 2_003)
        let w = values(outFeatures * inFeatures, seed: 5)
        for rows in [2, 9, SkinnyLinear.maximumRows, SkinnyLinear.maximumRows + 1] {
            let x = values(rows * inFeatures, seed: rows)
            var expected = [Float](repeating: 0, count: rows * outFeatures)
            Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                        b: w, ldb: inFeatures, c: &expected, ldc: outFeatures)
            var y = [Float](repeating: .nan, count: rows * outFeatures)
            Matmul.linear(x, rows: rows, inFeatures: inFeatures, weight: w, outFeatures: outFeatures, into: &y)
            // Summation order differs from sgemm's: allow 1e-5 of each output's sum of absolute products.
            var magnitude = [Float](repeating: 0, count: rows * outFeatures)
            Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x.map(abs), lda: inFeatures,
                        b: w.map(abs), ldb: inFeatures, c: &magnitude, ldc: outFeatures)
            let worst = (0..<y.count).map { abs(y[$0] - expected[$0]) / max(magnitude[$0], 1e-30) }.max() ?? .nan
            XCTAssertLessThan(worst, 1e-5, "rows \(rows): largest difference relative to the sum of absolute products \(worst)")
        }
    }

    /// A decode row over a small weight stays on one thread (bound by the weight stream, a dispatch costs
    /// more than it saves), but the perceiver's 32 latents over the same 768 x 512 weight are arithmetic
    /// enough to split.
    func testSmallWeightsSplitOnlyWhenTheRowsMakeEnoughArithmetic() {
        let (inFeatures, outFeatures) = (768, 512)
        let single = SkinnyLinear.minimumFeaturesPerThread(rows: 1, inFeatures: inFeatures)
        let latents = SkinnyLinear.minimumFeaturesPerThread(rows: 32, inFeatures: inFeatures)
        XCTAssertEqual(Parallel.chunkCount(outFeatures, minimumChunk: single), 1)
        XCTAssertGreaterThanOrEqual(outFeatures / latents, 2, "32 rows over 768 x 512 give at least two threads work")
        XCTAssertEqual(SkinnyLinear.minimumFeaturesPerThread(rows: 4, inFeatures: inFeatures), single,
                       "up to four rows the weight stream sets the time")
    }
}

import CKernels
import XCTest
@testable import Tensor

/// The packed-x, broadcast-weight kernel against OpenBLAS sgemm. Both sum the same products in different
/// orders, so they agree to float rounding: within 1e-5 of the sum of absolute products (a bound that a
/// wrong index or a dropped tail breaks by orders of magnitude). Padding of x, w and y holds NaN or
/// sentinels, so reading or writing past a row shows up too.
final class BroadcastLinearTests: XCTestCase {
    struct Shape {
        var rows: Int
        var inFeatures: Int
        var outFeatures: Int
        var begin = 0
        var end: Int? = nil
        var accumulate = false
        var bias = false
        var xStride: Int? = nil
        var yStride: Int? = nil
    }

    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed * 13) * 0.37)) }
    }

    /// The smallest weight row stride of at least `inFeatures` that the kernel accepts.
    func supportedStride(atLeast inFeatures: Int) -> Int {
        var stride = inFeatures
        while radfm_broadcast_linear_supported(stride) == 0 { stride += 1 }
        return stride
    }

    func skipWithoutAVX512() throws {
        try XCTSkipIf(radfm_broadcast_linear_supported(2_064) == 0, "the kernel needs AVX-512")
    }

    /// Copies `matrix` [rows, columns] into rows `stride` apart, the gaps filled with `padding`.
    func strided(_ matrix: [Float], rows: Int, columns: Int, stride: Int, padding: Float) -> [Float] {
        var result = [Float](repeating: padding, count: rows * stride)
        for r in 0..<rows {
            for c in 0..<columns { result[r * stride + c] = matrix[r * columns + c] }
        }
        return result
    }

    /// Packs x, runs the kernel over features begin..<end and checks every element of y: products in the
    /// range, the initial values everywhere else (other features, the stride's gap, two rows past `rows`).
    func check(_ shape: Shape, file: StaticString = #filePath, line: UInt = #line) {
        let rows = shape.rows, inFeatures = shape.inFeatures, outFeatures = shape.outFeatures
        let end = shape.end ?? outFeatures
        let xStride = shape.xStride ?? inFeatures, yStride = shape.yStride ?? outFeatures
        let weightStride = supportedStride(atLeast: inFeatures)
        let x = values(rows * inFeatures, seed: rows + inFeatures)
        let w = values(outFeatures * inFeatures, seed: outFeatures)
        let yRows = rows + 2
        let initial = values(yRows * yStride, seed: 99)
        let bias = shape.bias ? values(outFeatures, seed: 5) : nil

        var expected = [Float](repeating: 0, count: rows * outFeatures)
        var magnitude = [Float](repeating: 0, count: rows * outFeatures)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                let start = (shape.accumulate ? initial[r * yStride + o] : 0) + (bias?[o] ?? 0)
                expected[r * outFeatures + o] = start
                magnitude[r * outFeatures + o] = abs(start)
            }
        }
        // sgemm rejects a leading dimension of 0; with no inner positions the sums are 0 anyway.
        if inFeatures > 0 {
            Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                        b: w, ldb: inFeatures, beta: 1, c: &expected, ldc: outFeatures)
            Matmul.gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: x.map(abs),
                        lda: inFeatures, b: w.map(abs), ldb: inFeatures, beta: 1, c: &magnitude, ldc: outFeatures)
        }

        let xPadded = strided(x, rows: rows, columns: inFeatures, stride: xStride, padding: .nan)
        let wPadded = strided(w, rows: outFeatures, columns: inFeatures, stride: weightStride, padding: .nan)
        guard let packed = radfm_broadcast_scratch(radfm_broadcast_packed_count(rows, inFeatures)) else {
            return XCTFail("no scratch for \(rows) x \(inFeatures)", file: file, line: line)
        }
        radfm_broadcast_pack(xPadded, rows, inFeatures, xStride, packed, 0, radfm_broadcast_group_count(rows))
        var y = initial
        radfm_broadcast_linear(packed, rows, inFeatures, wPadded, weightStride, bias, shape.begin, end,
                               shape.accumulate ? 1 : 0, &y, yStride)

        let label = "rows \(rows) in \(inFeatures) out \(outFeatures) [\(shape.begin), \(end))"
        var failures = 0
        for r in 0..<yRows {
            for o in 0..<yStride where failures < 5 {
                let index = r * yStride + o
                if r < rows, (shape.begin..<end).contains(o) {
                    let reference = expected[r * outFeatures + o]
                    let bound = 1e-5 * magnitude[r * outFeatures + o] + 1e-6
                    if !(abs(y[index] - reference) <= bound) {
                        failures += 1
                        XCTFail("\(label): y[\(r), \(o)] = \(y[index]), sgemm \(reference)", file: file, line: line)
                    }
                } else if y[index] != initial[index] {
                    failures += 1
                    XCTFail("\(label): y[\(r), \(o)] outside the product was written", file: file, line: line)
                }
            }
        }
    }

    /// Every row-group size (16, 32, 64 and several groups) with its partial groups, every inner-dimension
    /// tail shorter than a vector (and each remainder of the 16- and 64-row tiles' unroll by 4), and weight
    /// tiles of 24, 12 and 6 rows cut short at the end.
    func testKernelMatchesSgemmForEveryGroupSizeAndTileTail() throws {
        try skipWithoutAVX512()
        let outTails = [1, 5, 23, 24, 25, 70]
        for (i, rows) in [1, 9, 15, 16, 17, 31, 32, 33, 64, 65, 100, 128, 192].enumerated() {
            for (j, inFeatures) in [16, 17, 19, 33, 130].enumerated() {
                check(Shape(rows: rows, inFeatures: inFeatures, outFeatures: outTails[(i + j) % outTails.count],
                            accumulate: (i + j) % 2 == 1))
            }
        }
    }

    /// Long inner dimensions: run in one pass while the packed x fits in 1 MB, and in 1024-wide blocks
    /// whose sums carry over in the accumulator buffer once it does not (each group size is taken just
    /// past 1 MB, with a last block shorter than the others).
    func testSumsCarryAcrossInnerBlocks() throws {
        try skipWithoutAVX512()
        for rows in [1, 16, 17, 33, 65, 192] {
            for inFeatures in [1_040, 2_100] {
                check(Shape(rows: rows, inFeatures: inFeatures, outFeatures: rows % 2 == 0 ? 25 : 70,
                            accumulate: rows % 2 == 1))
            }
        }
        for (rows, inFeatures) in [(16, 16_400), (32, 8_200), (64, 4_100), (128, 2_100)] {
            check(Shape(rows: rows, inFeatures: inFeatures, outFeatures: 25, accumulate: rows == 32))
            check(Shape(rows: rows - 15, inFeatures: inFeatures, outFeatures: 7))
        }
    }

    /// More features than one chunk of 64 tiles (1536, 768 and 384 features for 16, 32 and 64-row groups),
    /// starting off a tile boundary, so that chunks restart their inner blocks and accumulators.
    func testOutputsSpanningSeveralTileChunks() throws {
        try skipWithoutAVX512()
        check(Shape(rows: 16, inFeatures: 17, outFeatures: 64 * 24 + 7, begin: 3))
        check(Shape(rows: 30, inFeatures: 33, outFeatures: 64 * 12 + 7, begin: 3, accumulate: true))
        check(Shape(rows: 65, inFeatures: 1_040, outFeatures: 64 * 6 + 7, begin: 3))
    }

    /// Threads split [0, out): each call writes only its features and rows, whatever the strides.
    func testKernelWritesOnlyItsFeatureRangeWithStridedRows() throws {
        try skipWithoutAVX512()
        check(Shape(rows: 17, inFeatures: 33, outFeatures: 70, begin: 5, end: 53, accumulate: true,
                    xStride: 40, yStride: 75))
        check(Shape(rows: 100, inFeatures: 130, outFeatures: 70, begin: 23, end: 24, xStride: 131, yStride: 71))
        check(Shape(rows: 9, inFeatures: 2_100, outFeatures: 25, begin: 0, end: 1, accumulate: true,
                    xStride: 2_116, yStride: 32))
        check(Shape(rows: 64, inFeatures: 16, outFeatures: 23, begin: 22, end: 23, xStride: 17, yStride: 24))
    }

    /// The bias is added once per sum, feature j taking bias[j] whatever range or chunk the call covers,
    /// on top of y's old values when accumulating; features outside the range stay untouched.
    func testBiasIsAddedToEverySumOfTheRange() throws {
        try skipWithoutAVX512()
        check(Shape(rows: 16, inFeatures: 33, outFeatures: 64 * 24 + 7, begin: 3, bias: true))
        check(Shape(rows: 30, inFeatures: 19, outFeatures: 70, begin: 5, end: 53, accumulate: true, bias: true,
                    yStride: 75))
        check(Shape(rows: 100, inFeatures: 130, outFeatures: 64 * 6 + 7, begin: 2, bias: true))
        check(Shape(rows: 256, inFeatures: 40, outFeatures: 25, accumulate: true, bias: true))
        check(Shape(rows: 40, inFeatures: 0, outFeatures: 7, bias: true))
    }

    func testEmptyInnerDimensionGivesZeroSums() throws {
        try skipWithoutAVX512()
        check(Shape(rows: 5, inFeatures: 0, outFeatures: 7))
        check(Shape(rows: 40, inFeatures: 0, outFeatures: 7, accumulate: true))
    }

    func testSupportedOnlyForStridesSpreadOverL1Sets() {
        let hasAVX512 = radfm_broadcast_linear_supported(2_064) != 0
        // Padded LLaMA rows: 2048 + 16 and 5632 + 16.
        XCTAssertEqual(radfm_broadcast_linear_supported(5_648) != 0, hasAVX512)
        // Multiples of 4 KB or of 512 bytes * 8 put a tile's rows in one L1 set; others are not vector strides.
        for stride in [0, 768, 2_048, 3_072, 5_632, 2_063, 2_065, 2_072, 17] {
            XCTAssertEqual(radfm_broadcast_linear_supported(stride), 0, "stride \(stride)")
        }
    }

    func testGroupSizesAndPackedCount() {
        XCTAssertEqual([1, 16, 17, 32, 33, 64, 65, 192].map { radfm_broadcast_group_rows($0) },
                       [16, 16, 32, 32, 64, 64, 64, 64])
        XCTAssertEqual(radfm_broadcast_packed_count(16, 10), 160)
        XCTAssertEqual(radfm_broadcast_packed_count(17, 10), 320)
        XCTAssertEqual(radfm_broadcast_packed_count(65, 10), 2 * 10 * 64)
        XCTAssertEqual(radfm_broadcast_packed_count(192, 3), 3 * 3 * 64)
    }

    /// packed[(g * in + k) * G + r] = x[g * G + r, k], zero past the last row, for a partial vector of
    /// inner positions and a second, partial group; groups packed by separate calls (as threads split
    /// them, last group first, the end clamped) land in the same places.
    func testPackLayoutIsKMajorWithZeroRowsPastTheEndForAnyRangeOfGroups() {
        for rows in [3, 70, 150] {
            let inFeatures = 18, xStride = 20
            let groupRows = radfm_broadcast_group_rows(rows), groups = (rows + groupRows - 1) / groupRows
            XCTAssertEqual(radfm_broadcast_group_count(rows), groups)
            let x = (0..<rows * xStride).map { $0 % xStride < inFeatures ? Float($0 + 1) : .nan }
            var packed = [Float](repeating: -1, count: radfm_broadcast_packed_count(rows, inFeatures))
            if groups == 1 {
                radfm_broadcast_pack(x, rows, inFeatures, xStride, &packed, 0, 1)
            } else {
                radfm_broadcast_pack(x, rows, inFeatures, xStride, &packed, groups - 1, groups + 5)
                radfm_broadcast_pack(x, rows, inFeatures, xStride, &packed, 0, groups - 1)
            }
            for g in 0..<groups {
                for k in 0..<inFeatures {
                    for r in 0..<groupRows {
                        let row = g * groupRows + r
                        XCTAssertEqual(packed[(g * inFeatures + k) * groupRows + r],
                                       row < rows ? Float(row * xStride + k + 1) : 0, "rows \(rows) [\(row), \(k)]")
                    }
                }
            }
        }
    }

    func testScratchIsAlignedAndGrows() throws {
        let small = try XCTUnwrap(radfm_broadcast_scratch(10))
        XCTAssertEqual(Int(bitPattern: small) % 64, 0)
        let large = try XCTUnwrap(radfm_broadcast_scratch(1 << 20))
        XCTAssertEqual(Int(bitPattern: large) % 64, 0)
        large[(1 << 20) - 1] = 1
        XCTAssertEqual(radfm_broadcast_scratch(100), large, "a smaller request reuses the buffer")
    }
}

import Foundation
import XCTest
@testable import Tensor

/// Kernels against direct formulas written out in the test, on small odd sizes that exercise the SIMD
/// remainders and both attention paths.
final class KernelTests: XCTestCase {
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed * 13) * 0.37)) }
    }

    func testGemmHonoursTransposesAndLeadingDimensions() {
        let (m, n, k) = (5, 7, 11)
        let a = values(k * m, seed: 1), b = values(n * k, seed: 2)   // a stored [k, m], b stored [n, k]
        var c = [Float](repeating: 1, count: m * (n + 2))
        Matmul.gemm(transposeA: true, transposeB: true, m: m, n: n, k: k, alpha: 2, a: a, lda: m, b: b, ldb: k,
                    beta: 1, c: &c, ldc: n + 2)
        for i in 0..<m {
            for j in 0..<n {
                var expected: Float = 0
                for l in 0..<k { expected += a[l * m + i] * b[j * k + l] }
                XCTAssertEqual(c[i * (n + 2) + j], 1 + 2 * expected, accuracy: 1e-4)
            }
            XCTAssertEqual(c[i * (n + 2) + n], 1, "padding column untouched")
        }
    }

    /// Products large enough to be split over the cores, once along rows (tall C) and once along columns
    /// (wide C), with every transpose combination, a padded C and beta = 1, against the same product computed
    /// one row of C at a time (too small to be split): each chunk must offset its operands by the right
    /// leading dimension and leave the padding alone.
    func testGemmSplitOverCoresMatchesRowByRowProducts() {
        for (m, n, k) in [(301, 67, 420), (41, 333, 620)] {
            XCTAssertGreaterThanOrEqual(m * n * k, 2 * Matmul.minimumParallelWork, "large enough to split")
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let a = values(m * k, seed: 1), b = values(k * n, seed: 2)
                let lda = transposeA ? m : k, ldb = transposeB ? k : n, ldc = n + 3
                var c = [Float](repeating: 1, count: m * ldc)
                Matmul.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 0.5,
                            a: a, lda: lda, b: b, ldb: ldb, beta: 1, c: &c, ldc: ldc)
                var expected = [Float](repeating: 1, count: m * ldc)
                a.withUnsafeBufferPointer { a in
                    expected.withUnsafeMutableBufferPointer { expected in
                        for i in 0..<m {
                            Matmul.gemm(transposeA: transposeA, transposeB: transposeB, m: 1, n: n, k: k, alpha: 0.5,
                                        a: a.baseAddress! + (transposeA ? i : i * k), lda: lda, b: b, ldb: ldb,
                                        beta: 1, c: expected.baseAddress! + i * ldc, ldc: ldc)
                        }
                    }
                }
                for index in c.indices {
                    // Row-at-a-time sgemv-like kernels sum in another order: agree to float rounding.
                    XCTAssertEqual(c[index], expected[index], accuracy: 1e-5 * max(1, abs(expected[index])),
                                   "\(m)x\(n)x\(k) transposes \(transposeA) \(transposeB) at \(index / ldc), \(index % ldc)")
                }
            }
        }
    }

    func testLinearAddsBiasAndCanAccumulate() {
        let x = values(3 * 4, seed: 3), weight = values(5 * 4, seed: 4), bias = values(5, seed: 5)
        var y = [Float](repeating: 10, count: 15)
        Matmul.linear(x, rows: 3, inFeatures: 4, weight: weight, outFeatures: 5, bias: bias, accumulate: true, into: &y)
        for r in 0..<3 {
            for o in 0..<5 {
                var expected = 10 + bias[o]
                for i in 0..<4 { expected += x[r * 4 + i] * weight[o * 4 + i] }
                XCTAssertEqual(y[r * 5 + o], expected, accuracy: 1e-5)
            }
        }
    }

    func testLinearAgreesOnTheGemvAndSgemmPaths() {
        let (inFeatures, outFeatures) = (37, 70)
        let weight = values(outFeatures * inFeatures, seed: 20)
        for rows in [1, 2, 5] {
            let x = values(rows * inFeatures, seed: rows)
            for accumulate in [false, true] {
                var y = [Float](repeating: 0.25, count: rows * outFeatures)
                Matmul.linear(x, rows: rows, inFeatures: inFeatures, weight: weight, outFeatures: outFeatures,
                              accumulate: accumulate, into: &y)
                for r in 0..<rows {
                    for o in 0..<outFeatures {
                        var expected: Float = accumulate ? 0.25 : 0
                        for i in 0..<inFeatures { expected += x[r * inFeatures + i] * weight[o * inFeatures + i] }
                        XCTAssertEqual(y[r * outFeatures + o], expected, accuracy: 1e-4, "rows \(rows)")
                    }
                }
            }
        }
    }

    func testLayerNormNormalisesEachRow() {
        let dim = 19, x = values(2 * dim, seed: 6), weight = values(dim, seed: 7), bias = values(dim, seed: 8)
        var y = [Float](repeating: 0, count: x.count)
        Normalization.layerNorm(x, rows: 2, dim: dim, weight: weight, bias: bias, epsilon: 1e-5, into: &y)
        for r in 0..<2 {
            let row = x[r * dim..<(r + 1) * dim]
            let mean = row.reduce(0, +) / Float(dim)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(dim)
            for i in 0..<dim {
                let expected = (x[r * dim + i] - mean) / (variance + 1e-5).squareRoot() * weight[i] + bias[i]
                XCTAssertEqual(y[r * dim + i], expected, accuracy: 1e-5)
            }
        }
    }

    func testRMSNormScalesByRootMeanSquare() {
        let dim = 21, x = values(dim, seed: 9), weight = values(dim, seed: 10)
        var y = [Float](repeating: 0, count: dim)
        Normalization.rmsNorm(x, rows: 1, dim: dim, weight: weight, epsilon: 1e-6, into: &y)
        let rms = (x.map { $0 * $0 }.reduce(0, +) / Float(dim) + 1e-6).squareRoot()
        for i in 0..<dim { XCTAssertEqual(y[i], x[i] / rms * weight[i], accuracy: 1e-5) }
    }

    func testGeluIsTheExactErfForm() {
        var x: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 3]
        Activation.gelu(&x, count: x.count)
        // Values of 0.5 x (1 + erf(x / sqrt 2)); the tanh approximation differs in the fourth digit.
        let expected: [Float] = [-0.0040496, -0.1586553, -0.1542687, 0, 0.3457313, 0.8413447, 2.9959504]
        for (value, wanted) in zip(x, expected) { XCTAssertEqual(value, wanted, accuracy: 1e-6) }
    }

    func testGeluVectorLanesAgreeWithTheErfFormula() {
        var x = (0..<37).map { Float($0) * 0.29 - 5.3 }
        let input = x
        Activation.gelu(&x, count: x.count)
        for (value, v) in zip(x, input) {
            XCTAssertEqual(value, 0.5 * v * (1 + erff(v / Float(2).squareRoot())), accuracy: 2e-7 * max(1, abs(v)))
        }
    }

    func testSoftmaxOfALongRowSumsToOneAndKeepsRatios() {
        var row = values(29, seed: 15).map { $0 * 6 }
        let input = row
        Softmax.row(&row, length: 29, rowLength: 29)
        XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(row[20] / row[3], exp(input[20] - input[3]), accuracy: 1e-5 * exp(input[20] - input[3]))
    }

    func testSiluGateMultipliesGatedHalfByUpHalf() {
        let gateAndUp: [Float] = [1, -2, 3, 4, /* row 2 */ 0.5, 0, -1, 2]
        var out = [Float](repeating: 0, count: 4)
        Activation.siluGate(gateAndUp, rows: 2, width: 2, into: &out)
        func silu(_ v: Float) -> Float { v / (1 + exp(-v)) }
        XCTAssertEqual(out, [silu(1) * 3, silu(-2) * 4, silu(0.5) * -1, silu(0) * 2])
    }

    func testSoftmaxMasksTheTailOfTheRow() {
        var row: [Float] = [1, 2, 3, 100]
        Softmax.row(&row, length: 3, rowLength: 4)
        let total = exp(Float(1)) + exp(Float(2)) + exp(Float(3))
        XCTAssertEqual(row[0], exp(1) / total, accuracy: 1e-6)
        XCTAssertEqual(row[2], exp(3) / total, accuracy: 1e-6)
        XCTAssertEqual(row[3], 0)
    }

    func testRotaryRotatesHalvesByPositionAngle() {
        let headDim = 8, heads = 2
        let rotary = RotaryEmbedding(headDim: headDim, theta: 10000)
        let original = values(heads * headDim, seed: 11)
        var x = original
        let positions: [Int32] = [5]
        rotary.apply(to: &x, rows: 1, rowStride: heads * headDim, heads: heads, positions: positions)
        for head in 0..<heads {
            for i in 0..<headDim / 2 {
                let angle = 5 / pow(10000, Double(2 * i) / Double(headDim))
                let (a, b) = (Double(original[head * headDim + i]), Double(original[head * headDim + i + 4]))
                XCTAssertEqual(Double(x[head * headDim + i]), a * cos(angle) - b * sin(angle), accuracy: 1e-5)
                XCTAssertEqual(Double(x[head * headDim + i + 4]), b * cos(angle) + a * sin(angle), accuracy: 1e-5)
            }
        }
    }

    /// Direct causal attention for one head, from the formula.
    func referenceAttention(q: [Float], k: [Float], v: [Float], n: Int, m: Int, heads: Int, d: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * heads * d)
        for h in 0..<heads {
            for i in 0..<n {
                let visible = m - n + i + 1
                var scores = (0..<visible).map { j in
                    (0..<d).reduce(Float(0)) { $0 + q[i * heads * d + h * d + $1] * k[j * heads * d + h * d + $1] }
                        / Float(d).squareRoot()
                }
                let top = scores.max()!
                scores = scores.map { exp($0 - top) }
                let total = scores.reduce(0, +)
                for j in 0..<visible {
                    for e in 0..<d { out[i * heads * d + h * d + e] += scores[j] / total * v[j * heads * d + h * d + e] }
                }
            }
        }
        return out
    }

    func testCausalAttentionMatchesFormulaOnBothPaths() {
        let (heads, d) = (3, 8)
        for (n, m) in [(1, 9), (70, 70), (66, 80)] {   // decode step, prefill, prefill continuing a cache
            let q = values(n * heads * d, seed: 12), k = values(m * heads * d, seed: 13), v = values(m * heads * d, seed: 14)
            var out = [Float](repeating: 0, count: n * heads * d)
            q.withUnsafeBufferPointer { q in k.withUnsafeBufferPointer { k in v.withUnsafeBufferPointer { v in
                out.withUnsafeMutableBufferPointer { out in
                    Attention.multiHead(
                        Attention.Operands(query: q.baseAddress!, queryStride: heads * d, key: k.baseAddress!,
                                           keyStride: heads * d, value: v.baseAddress!, valueStride: heads * d,
                                           output: out.baseAddress!, outputStride: heads * d, queryCount: n, keyCount: m),
                        heads: heads, headDim: d, causal: true)
                }
            } } }
            let expected = referenceAttention(q: q, k: k, v: v, n: n, m: m, heads: heads, d: d)
            for (value, wanted) in zip(out, expected) { XCTAssertEqual(value, wanted, accuracy: 1e-5, "\(n)x\(m)") }
        }
    }
}

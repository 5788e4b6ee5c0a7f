import CKernels
import Foundation
import XCTest
@testable import Tensor

/// The C kernels of `elementwise.c` (GELU, SiLU gate, softmax, LayerNorm, RMSNorm), both the dispatching
/// entry points (AVX-512 on CPUs that have it) and the portable loops, against formulas evaluated in
/// doubles with libm's erf and exp and against each other, on lengths around the 16-lane vector so that
/// full vectors, masked tails and both are covered.
final class ElementwiseKernelTests: XCTestCase {
    /// Lengths below, at and around one and two 16-lane vectors, plus a long row with an odd tail.
    let lengths = [1, 7, 15, 16, 17, 31, 32, 33, 1029]

    /// Deterministic values spread over [-scale, scale].
    func values(_ count: Int, seed: Int, scale: Double) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed * 13) * 0.37 + Double(seed)) * scale) }
    }

    func geluReference(_ x: Float) -> Double {
        let v = Double(x)
        return 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
    }

    // A-S 7.1.26's erf is off by up to 1.5e-7, which GELU scales by x / 2; the rest is float rounding.
    func checkGelu(_ kernel: (UnsafeMutablePointer<Float>, Int) -> Void, name: String) {
        for count in lengths {
            var x = values(count, seed: count, scale: 9)
            let input = x
            kernel(&x, count)
            for (value, v) in zip(x, input) {
                XCTAssertEqual(Double(value), geluReference(v), accuracy: 1.5e-7 * max(1, Double(abs(v))),
                               "\(name): gelu(\(v)), length \(count)")
            }
        }
    }

    func testGeluMatchesTheDoubleErfFormulaOnEveryLength() {
        checkGelu({ radfm_gelu($0, $1) }, name: "dispatched")
        checkGelu({ radfm_gelu_portable($0, $1) }, name: "portable")
    }

    func testGeluSaturatesToIdentityAndZeroFarFromTheOrigin() {
        var x: [Float] = [-200, -30, -9, 9, 30, 200]
        radfm_gelu(&x, x.count)
        // gelu(-9) is -1e-18 and the others smaller still.
        for value in x[0..<3] { XCTAssertEqual(value, 0, accuracy: 1e-17) }
        XCTAssertEqual(Array(x[3...]), [9, 30, 200])
    }

    func testGeluDispatchedPathAgreesWithPortableLoop() {
        for count in lengths {
            let input = values(count, seed: count + 1, scale: 6)
            var dispatched = input, portable = input
            radfm_gelu(&dispatched, count)
            radfm_gelu_portable(&portable, count)
            // The AVX-512 path fuses multiply-adds, so the two differ by the rounding of erf (an ulp of
            // numbers near 1), which GELU scales by x / 2.
            for i in 0..<count {
                XCTAssertEqual(dispatched[i], portable[i], accuracy: 1.2e-7 * max(1, abs(input[i])),
                               "index \(i) of \(count)")
            }
        }
    }

    func testGeluSplitOverCoresEqualsOneCallOverTheWholeBuffer() {
        let count = 3 * (1 << 15) + 5
        var split = values(count, seed: 3, scale: 4)
        var whole = split
        Activation.gelu(&split, count: count)
        radfm_gelu(&whole, count)
        XCTAssertEqual(split, whole)
    }

    func siluGateReference(_ gateAndUp: [Float], rows: Int, width: Int) -> [Double] {
        (0..<rows * width).map { index in
            let row = index / width, column = index % width
            let g = Double(gateAndUp[row * 2 * width + column]), u = Double(gateAndUp[row * 2 * width + width + column])
            return g / (1 + Foundation.exp(-g)) * u
        }
    }

    func checkSiluGate(_ kernel: (UnsafePointer<Float>, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                       name: String) {
        let rows = 3
        for width in lengths {
            let gateAndUp = values(rows * 2 * width, seed: width, scale: 12)
            var out = [Float](repeating: .nan, count: rows * width)
            kernel(gateAndUp, rows, width, &out)
            for (index, expected) in siluGateReference(gateAndUp, rows: rows, width: width).enumerated() {
                XCTAssertEqual(Double(out[index]), expected, accuracy: 4e-7 * max(1, abs(expected)),
                               "\(name): index \(index), width \(width)")
            }
        }
    }

    func testSiluGateMatchesTheDoubleFormulaOnEveryWidth() {
        checkSiluGate({ radfm_silu_gate($0, $1, $2, $3) }, name: "dispatched")
        checkSiluGate({ radfm_silu_gate_portable($0, $1, $2, $3) }, name: "portable")
    }

    func testSiluGateDispatchedPathAgreesWithPortableLoop() {
        let rows = 2
        for width in lengths {
            let gateAndUp = values(rows * 2 * width, seed: width + 5, scale: 10)
            var dispatched = [Float](repeating: .nan, count: rows * width)
            var portable = dispatched
            radfm_silu_gate(gateAndUp, rows, width, &dispatched)
            radfm_silu_gate_portable(gateAndUp, rows, width, &portable)
            for i in 0..<rows * width {
                XCTAssertEqual(dispatched[i], portable[i], accuracy: 4 * max(abs(portable[i]), 1e-3).ulp,
                               "index \(i), width \(width)")
            }
        }
    }

    /// The row softmax in doubles over the first `length` entries.
    func softmaxReference(_ row: [Float], length: Int) -> [Double] {
        let visible = row[0..<length].map(Double.init)
        let top = visible.max()!
        let weights = visible.map { Foundation.exp($0 - top) }
        let total = weights.reduce(0, +)
        return weights.map { $0 / total }
    }

    /// Runs `kernel` on rows 17 entries longer than `length`, filled with 1e30 past `length`, and checks the
    /// visible entries against doubles and the rest for zeros.
    func checkSoftmax(_ kernel: (UnsafeMutablePointer<Float>, Int, Int) -> Void, name: String) {
        for length in lengths {
            // Scores down to -60 below the maximum: exp's whole useful range, underflow excluded.
            let visible = values(length, seed: length + 9, scale: 30)
            var row = visible + [Float](repeating: 1e30, count: 17)
            kernel(&row, length, row.count)
            let top = visible.max()!
            for (index, expected) in softmaxReference(visible, length: length).enumerated() {
                // Rounding x - max to float moves exp's argument by up to half an ulp of the difference;
                // exp adds two ulp and the sum over a long row a few more.
                let argumentError = Double(abs(visible[index] - top).ulp)
                XCTAssertEqual(Double(row[index]), expected, accuracy: (1e-6 + argumentError) * expected,
                               "\(name): index \(index) of \(length)")
            }
            XCTAssertEqual(Array(row[length...]), [Float](repeating: 0, count: 17), "\(name): tail of \(length)")
        }
    }

    func testSoftmaxMatchesDoublesAndZeroesTheMaskedTailOnEveryLength() {
        checkSoftmax({ radfm_softmax_row($0, $1, $2) }, name: "dispatched")
        checkSoftmax({ radfm_softmax_row_portable($0, $1, $2) }, name: "portable")
    }

    func testSoftmaxDispatchedPathAgreesWithPortableLoop() {
        for length in lengths {
            var dispatched = values(length, seed: length + 2, scale: 20) + [Float](repeating: 3, count: 5)
            var portable = dispatched
            radfm_softmax_row(&dispatched, length, dispatched.count)
            radfm_softmax_row_portable(&portable, length, portable.count)
            for i in 0..<dispatched.count {
                XCTAssertEqual(dispatched[i], portable[i], accuracy: 4 * max(portable[i], .leastNormalMagnitude).ulp,
                               "index \(i) of \(length)")
            }
        }
    }

    func testSoftmaxOfAnEmptyPrefixZeroesTheWholeRow() {
        var row: [Float] = [1, 2, 3]
        radfm_softmax_row(&row, 0, row.count)
        XCTAssertEqual(row, [0, 0, 0])
    }

    func testSoftmaxOfScoresFarBelowTheMaximumUnderflowsToNegligibleWeights() {
        var row: [Float] = [0, -100, -1000] + [Float](repeating: -500, count: 16)
        radfm_softmax_row(&row, row.count, row.count)
        XCTAssertEqual(row[0], 1, accuracy: 1e-6)
        XCTAssertLessThanOrEqual(row[1...].max()!, 2 * Float.leastNormalMagnitude)
    }

    typealias LayerNormKernel = (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, UnsafePointer<Float>, Float,
                                 UnsafeMutablePointer<Float>) -> Void
    typealias RMSNormKernel = (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, Float,
                               UnsafeMutablePointer<Float>) -> Void

    func layerNormReference(_ x: [Float], rows: Int, dim: Int, weight: [Float], bias: [Float]) -> [Double] {
        (0..<rows).flatMap { row -> [Double] in
            let values = x[row * dim..<(row + 1) * dim].map(Double.init)
            let mean = values.reduce(0, +) / Double(dim)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            return (0..<dim).map { i in
                (values[i] - mean) / (variance + 1e-5).squareRoot() * Double(weight[i]) + Double(bias[i])
            }
        }
    }

    /// Runs `kernel` in place and into a separate buffer on rows of every length around the vector width.
    func checkLayerNorm(_ kernel: LayerNormKernel, name: String, offset: Float, tolerance: Double) {
        let rows = 3
        for dim in lengths {
            let x = values(rows * dim, seed: dim + 4, scale: 2).map { $0 + offset }
            let weight = values(dim, seed: dim + 5, scale: 1.5), bias = values(dim, seed: dim + 6, scale: 0.5)
            let expected = layerNormReference(x, rows: rows, dim: dim, weight: weight, bias: bias)
            var separate = [Float](repeating: .nan, count: x.count)
            kernel(x, rows, dim, weight, bias, 1e-5, &separate)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer {
                kernel($0.baseAddress!, rows, dim, weight, bias, 1e-5, $0.baseAddress!)
            }
            for i in 0..<x.count {
                XCTAssertEqual(Double(separate[i]), expected[i], accuracy: tolerance * max(1, abs(expected[i])),
                               "\(name): index \(i), dim \(dim)")
                XCTAssertEqual(inPlace[i], separate[i], "\(name) in place: index \(i), dim \(dim)")
            }
        }
    }

    func testLayerNormMatchesDoublesInPlaceAndOnEveryWidth() {
        checkLayerNorm({ radfm_layer_norm_rows($0, $1, $2, $3, $4, $5, $6) }, name: "dispatched", offset: 0,
                       tolerance: 2e-6)
        checkLayerNorm({ radfm_layer_norm_rows_portable($0, $1, $2, $3, $4, $5, $6) }, name: "portable", offset: 0,
                       tolerance: 2e-6)
    }

    // The variance comes from a second pass over deviations: E[x^2] - E[x]^2 in floats would lose about
    // two digits on rows whose mean is 300 times their spread.
    func testLayerNormKeepsPrecisionOnRowsFarFromZero() {
        checkLayerNorm({ radfm_layer_norm_rows($0, $1, $2, $3, $4, $5, $6) }, name: "dispatched", offset: 600,
                       tolerance: 1e-4)
        checkLayerNorm({ radfm_layer_norm_rows_portable($0, $1, $2, $3, $4, $5, $6) }, name: "portable", offset: 600,
                       tolerance: 1e-4)
    }

    func checkRMSNorm(_ kernel: RMSNormKernel, name: String) {
        let rows = 2
        for dim in lengths {
            let x = values(rows * dim, seed: dim + 7, scale: 3), weight = values(dim, seed: dim + 8, scale: 1.5)
            var separate = [Float](repeating: .nan, count: x.count)
            kernel(x, rows, dim, weight, 1e-6, &separate)
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer {
                kernel($0.baseAddress!, rows, dim, weight, 1e-6, $0.baseAddress!)
            }
            for row in 0..<rows {
                let values = x[row * dim..<(row + 1) * dim].map(Double.init)
                let rms = (values.map { $0 * $0 }.reduce(0, +) / Double(dim) + 1e-6).squareRoot()
                for i in 0..<dim {
                    let expected = values[i] / rms * Double(weight[i])
                    XCTAssertEqual(Double(separate[row * dim + i]), expected, accuracy: 1e-6 * max(1, abs(expected)),
                                   "\(name): row \(row), index \(i), dim \(dim)")
                    XCTAssertEqual(inPlace[row * dim + i], separate[row * dim + i], "\(name) in place: index \(i)")
                }
            }
        }
    }

    func testRMSNormMatchesDoublesInPlaceAndOnEveryWidth() {
        checkRMSNorm({ radfm_rms_norm_rows($0, $1, $2, $3, $4, $5) }, name: "dispatched")
        checkRMSNorm({ radfm_rms_norm_rows_portable($0, $1, $2, $3, $4, $5) }, name: "portable")
    }
}

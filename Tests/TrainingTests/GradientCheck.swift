import Foundation
import Training
import XCTest

/// Central finite differences of a float64 reference loss, compared with float32 analytic gradients.
/// Tolerance for every op: |analytic - numeric| <= 2e-4 + 2e-3 |numeric| (float32 rounding of the analytic
/// pass is ~1e-6 relative at these sizes; a wrong term is off by O(1)).
enum GradientCheck {
    static let step = 1e-5
    static let absoluteTolerance = 2e-4
    static let relativeTolerance = 2e-3

    /// d loss / d inputs[which][i] for every i, by central differences.
    static func numeric(_ loss: ([[Double]]) -> Double, at inputs: [[Double]], input which: Int) -> [Double] {
        var probe = inputs
        return (0..<inputs[which].count).map { i in
            let original = probe[which][i]
            probe[which][i] = original + step
            let plus = loss(probe)
            probe[which][i] = original - step
            let minus = loss(probe)
            probe[which][i] = original
            return (plus - minus) / (2 * step)
        }
    }

    static func assertClose(
        _ analytic: [Float], _ numeric: [Double], _ name: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(analytic.count, numeric.count, "\(name): gradient sizes", file: file, line: line)
        var worst = 0.0
        for (a, n) in zip(analytic, numeric) {
            let excess = abs(Double(a) - n) - (absoluteTolerance + relativeTolerance * abs(n))
            worst = max(worst, excess)
        }
        XCTAssertLessThanOrEqual(worst, 0, "\(name): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
        // A gradient that is zero everywhere would pass trivially; every checked operand here has signal.
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-3, "\(name): degenerate check", file: file, line: line)
    }

    static func random(_ count: Int, _ generator: inout SeededGenerator, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in (Double(generator.unitFloat()) * 2 - 1) * scale }
    }

    static func floats(_ values: [Double]) -> [Float] { values.map(Float.init) }

    /// Values rounded to float32 and back, so the reference sees exactly what the float kernels see.
    static func rounded(_ values: [Double]) -> [Double] { values.map { Double(Float($0)) } }
}

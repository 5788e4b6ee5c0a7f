import RadBench
import XCTest

final class ClassificationMetricsTests: XCTestCase {
    /// Worked by hand: labels ct, mri, us, x-ray; 3 of 6 right.
    ///   ct:    TP 2, predicted 3, support 3 -> P 2/3, R 2/3, F1 2/3
    ///   mri:   TP 1, predicted 2, support 2 -> P 1/2, R 1/2, F1 1/2
    ///   us:    TP 0, predicted 1, support 0 -> 0, 0, 0
    ///   x-ray: TP 0, predicted 0, support 1 -> 0, 0, 0
    ///   macro P = R = F1 = (2/3 + 1/2) / 4 = 7/24
    func testPerLabelAndMacroScoresMatchTheHandComputedCase() {
        let metrics = ClassificationMetrics(predictions: ["CT", "MRI", " ct ", "mri", "CT", "US"],
                                            references: ["CT", "CT", "CT", "MRI", "MRI", "X-ray"])
        XCTAssertEqual(metrics.labels, ["ct", "mri", "us", "x-ray"])
        XCTAssertEqual(metrics.accuracy, 0.5)
        XCTAssertEqual(metrics.confusion, [[2, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]])
        let expected: [(Double, Double, Double, Int)] = [(2.0 / 3, 2.0 / 3, 2.0 / 3, 3), (0.5, 0.5, 0.5, 2), (0, 0, 0, 0), (0, 0, 0, 1)]
        for (score, (precision, recall, f1, support)) in zip(metrics.perLabel, expected) {
            XCTAssertEqual(score.precision, precision, accuracy: 1e-15, score.label)
            XCTAssertEqual(score.recall, recall, accuracy: 1e-15, score.label)
            XCTAssertEqual(score.f1, f1, accuracy: 1e-15, score.label)
            XCTAssertEqual(score.support, support, score.label)
        }
        XCTAssertEqual(metrics.macroPrecision, 7.0 / 24, accuracy: 1e-15)
        XCTAssertEqual(metrics.macroRecall, 7.0 / 24, accuracy: 1e-15)
        XCTAssertEqual(metrics.macroF1, 7.0 / 24, accuracy: 1e-15)
    }

    func testMacroF1IsTheMeanOfPerLabelF1NotTheF1OfMeans() {
        // a: P 1, R 1/2, F1 2/3; b: P 1/2, R 1, F1 2/3 -> macro F1 2/3 while F1(mean P, mean R) = 3/4.
        let metrics = ClassificationMetrics(predictions: ["a", "b", "b"], references: ["a", "a", "b"])
        XCTAssertEqual(metrics.macroF1, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(metrics.macroPrecision, 0.75, accuracy: 1e-15)
    }

    func testNoRowsGiveZeroScoresAndNoLabels() {
        let metrics = ClassificationMetrics(predictions: [], references: [])
        XCTAssertEqual(metrics.accuracy, 0)
        XCTAssertEqual(metrics.labels, [])
        XCTAssertEqual(metrics.macroF1, 0)
    }
}

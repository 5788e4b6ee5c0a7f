import Foundation
import RadBench
import XCTest

final class BenchRunResultTests: XCTestCase {
    private let predictions = [
        BenchPrediction(id: "m1", task: .modality, prediction: "CT", reference: "CT"),
        BenchPrediction(id: "v1", task: .vqa, prediction: "yes, there is", reference: "yes"),
        BenchPrediction(id: "m2", task: .modality, prediction: "MR", reference: "CT"),
        BenchPrediction(id: "r1", task: .report, prediction: "no acute findings", reference: "no acute cardiopulmonary findings"),
    ]

    func testEachTaskIsScoredOverItsOwnRowsInTaskOrder() {
        let result = BenchRunResult(modelID: "tiny", benchmark: "set.jsonl", maxNewTokens: 8, predictions: predictions)
        XCTAssertEqual(result.scores.map(\.task), [.modality, .vqa, .report])
        XCTAssertEqual(result.scores[0].metrics["accuracy"], 0.5)
        XCTAssertEqual(result.scores[0].counts["rows"], 2)
        XCTAssertEqual(result.scores[1].metrics["closed_accuracy"], 1)
        let reportRows = [PredictionRow(id: "r1", prediction: "no acute findings", reference: "no acute cardiopulmonary findings", line: 4)]
        XCTAssertEqual(result.scores[2].metrics, TaskScorer.score(reportRows, task: .report).metrics)
    }

    func testWrittenPredictionsAreScorableAndMetricsReadBack() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("radbench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = BenchRunResult(modelID: "tiny", benchmark: "set.jsonl", maxNewTokens: 8, predictions: predictions)
        try result.write(to: folder)

        let rows = try PredictionFile.load(path: folder.appendingPathComponent("predictions.jsonl").path)
        XCTAssertEqual(rows.map(\.id), ["m1", "v1", "m2", "r1"])
        XCTAssertEqual(rows[3].reference, "no acute cardiopulmonary findings")
        let metrics = try JSONDecoder().decode(BenchRunResult.Metrics.self,
                                               from: Data(contentsOf: folder.appendingPathComponent("metrics.json")))
        XCTAssertEqual(metrics.scores, result.scores)
        XCTAssertEqual(metrics.modelID, "tiny")
        XCTAssertEqual(metrics.maxNewTokens, 8)
    }
}

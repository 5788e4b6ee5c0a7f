import Foundation
import RadBench
import XCTest

final class TaskScorerTests: XCTestCase {
    private func rows(_ pairs: [(String, String)]) -> [PredictionRow] {
        pairs.enumerated().map { PredictionRow(id: "r\($0.offset)", prediction: $0.element.0, reference: $0.element.1, line: $0.offset + 1) }
    }

    private let overlapMetrics: Set<String> = Set((1...4).map { "bleu\($0)" }).union(
        ["rouge1", "rouge2", "rougeL"].flatMap { name in ["precision", "recall", "f1"].map { "\(name)_\($0)" } })

    func testReportAndRationaleGetBLEUAndRougeOnly() {
        for task in [BenchTask.report, .rationale] {
            let score = TaskScorer.score(rows([("No acute process.", "No acute cardiopulmonary process.")]), task: task)
            XCTAssertEqual(Set(score.metrics.keys), overlapMetrics)
            XCTAssertNil(score.perLabel)
            XCTAssertEqual(score.counts, ["rows": 1])
        }
    }

    func testIdenticalTextScoresFullMarks() {
        let score = TaskScorer.score(rows([("Heart size is normal. No effusion.", "Heart size is normal. No effusion.")]), task: .report)
        for order in 1...4 { XCTAssertEqual(score.metrics["bleu\(order)"]!, 100, accuracy: 1e-9) }
        XCTAssertEqual(score.metrics["rougeL_f1"], 1)
    }

    func testStemmerSettingChangesRougeAndIsEchoedInSettings() {
        let pairs = rows([("effusions", "effusion")])
        let plain = TaskScorer.score(pairs, task: .report)
        let stemmed = TaskScorer.score(pairs, task: .report, options: ScoringOptions(rougeUsesStemmer: true))
        XCTAssertEqual(plain.metrics["rouge1_f1"], 0)
        XCTAssertEqual(stemmed.metrics["rouge1_f1"], 1)
        XCTAssertTrue(stemmed.settings["rouge"]!.contains("use_stemmer=True"))
    }

    func testDiagnosisReadsFreeAnswersForYesNoReferencesAndComparesLabelsOtherwise() {
        let score = TaskScorer.score(rows([
            ("Yes, there is consolidation", "yes"), ("No evidence of it", "No"), ("Pneumonia", "pneumonia"),
            ("possibly", "yes"),
        ]), task: .diagnosis)
        XCTAssertEqual(score.metrics["accuracy"], 0.75)
        XCTAssertEqual(score.counts, ["rows": 4, "yes_no_rows": 3, "unparsed_answers": 1])
        XCTAssertEqual(score.confusion?.labels, ["no", "pneumonia", "unknown", "yes"])
    }

    func testModalityComparesLabelsWithoutReadingYesNo() {
        let score = TaskScorer.score(rows([("CT", "ct"), ("yes", "no")]), task: .modality)
        XCTAssertEqual(score.metrics["accuracy"], 0.5)
        XCTAssertEqual(score.counts, ["rows": 2])
        XCTAssertEqual(Set(score.metrics.keys), ["accuracy", "macro_precision", "macro_recall", "macro_f1"])
    }

    func testVQAGetsShortAnswerAndOverlapMetricsAndClosedAccuracy() {
        let score = TaskScorer.score(rows([("The left lung", "left lung"), ("No, it is not", "no"), ("liver", "spleen")]), task: .vqa)
        XCTAssertEqual(Set(score.metrics.keys), overlapMetrics.union(["exact_match", "token_f1", "closed_accuracy"]))
        XCTAssertEqual(score.metrics["exact_match"]!, 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(score.metrics["closed_accuracy"], 1)
        XCTAssertEqual(score.counts, ["rows": 3, "yes_no_rows": 1, "unparsed_answers": 0])
    }

    func testJSONHasSortedSnakeCaseKeysAndRoundTrips() throws {
        let score = TaskScorer.score(rows([("CT", "CT"), ("MR", "CT")]), task: .modality)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(score)
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix(#"{"confusion":{"labels":["ct","mr"],"matrix":[[1,1],[0,0]]},"counts":{"rows":2}"#), text)
        XCTAssertTrue(text.contains(#""per_label":[{"f1":"#), text)
        XCTAssertEqual(try JSONDecoder().decode(TaskScore.self, from: data), score)
    }
}

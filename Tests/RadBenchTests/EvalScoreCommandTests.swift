import Foundation
import RadBench
import TestSupport
import XCTest

/// `radfm eval score` end to end: the binary SwiftPM builds next to the test bundle. Run alone (only this
/// target built) the binary may be absent; then the tests skip, unless CI is set.
final class EvalScoreCommandTests: XCTestCase {
    private func radfm(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try CommandLineTesting.radfm(arguments, builtWith: Self.self)
    }

    func testJSONOutputIsTheTaskScoreOfTheFile() throws {
        let file = MetricReference.fixtures.appendingPathComponent("metric_pairs.jsonl").path
        let run = try radfm(["eval", "score", "--task", "report", "--predictions", file, "--format", "json", "--rouge-stemmer"])
        XCTAssertEqual(run.status, 0, run.errors)
        let printed = try JSONDecoder().decode(TaskScore.self, from: Data(run.output.utf8))
        let expected = TaskScorer.score(try PredictionFile.load(path: file), task: .report, options: ScoringOptions(rougeUsesStemmer: true))
        XCTAssertEqual(printed, expected)
    }

    func testMalformedLineFailsWithOneLineNamingFileAndLine() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("radbench-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("{\"id\":1,\"prediction\":\"CT\",\"reference\":\"CT\"}\n{\"id\":2,\"prediction\":\"MR\"\n".utf8).write(to: file)
        let run = try radfm(["eval", "score", "--task", "modality", "--predictions", file.path])
        XCTAssertEqual(run.status, 1)
        XCTAssertEqual(run.errors.trimmingCharacters(in: .whitespacesAndNewlines), "Error: \(file.path):2: not a JSON object on one line")
    }
}

import Foundation
import RadBench
import XCTest

/// `radfm eval score` end to end: the binary SwiftPM builds next to the test bundle. Run alone (only this
/// target built) the binary may be absent; then the tests skip, unless CI is set.
final class EvalScoreCommandTests: XCTestCase {
    private func radfm(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        // On Linux the bundle URL is the build folder itself; on macOS it is the .xctest inside it.
        let bundle = Bundle(for: Self.self).bundleURL
        let binary = (bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle).appendingPathComponent("radfm")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("radfm not built at \(binary.path)") }
            throw XCTSkip("radfm not built at \(binary.path)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
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

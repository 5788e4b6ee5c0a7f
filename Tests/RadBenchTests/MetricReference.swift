import Foundation
import XCTest

/// The pairs fixture and the values sacrebleu, rouge-score and NLTK compute for it, produced live by
/// `Fixtures/reference_metrics.py`. Without python3 or those packages the calling test is skipped, unless
/// the CI variable is set: then it fails.
struct MetricReference {
    struct Pair {
        let id: String
        let prediction: String
        let reference: String
        /// The pair's entry in the script's output.
        let expected: [String: Any]
    }

    let pairs: [Pair]
    let output: [String: Any]

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private static let cached = Result { try MetricReference(loading: fixtures.appendingPathComponent("metric_pairs.jsonl")) }

    /// The reference values, computed once per test run.
    static func load() throws -> MetricReference {
        do {
            return try cached.get()
        } catch let unavailable as ToolingUnavailable {
            if ProcessInfo.processInfo.environment["CI"] != nil {
                XCTFail("reference tooling missing in CI: \(unavailable.reason)")
            }
            throw XCTSkip("reference tooling missing: \(unavailable.reason)")
        }
    }

    private init(loading pairsFile: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.fixtures.appendingPathComponent("reference_metrics.py").path, pairsFile.path]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw ToolingUnavailable(reason: "python3 cannot be started: \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus == 3 || process.terminationStatus == 127 {
            throw ToolingUnavailable(reason: errorText)
        }
        guard process.terminationStatus == 0 else { throw ReferenceScriptFailed(message: errorText) }
        self.output = try JSONSerialization.jsonObject(with: data) as! [String: Any]

        let rows = try String(contentsOf: pairsFile, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: String]
        }
        let expected = self.output["pairs"] as! [[String: Any]]
        precondition(rows.count == expected.count, "reference script returned \(expected.count) rows for \(rows.count) pairs")
        pairs = zip(rows, expected).map { Pair(id: $0["id"]!, prediction: $0["prediction"]!, reference: $0["reference"]!, expected: $1) }
    }

    struct ToolingUnavailable: Error { let reason: String }

    struct ReferenceScriptFailed: Error, CustomStringConvertible {
        let message: String
        var description: String { "reference_metrics.py failed: \(message)" }
    }
}

/// Floats from the reference script, which sends them as Python's repr text: `Double(String)` rounds
/// correctly, and JSONSerialization's number parser does not always.
func exactValues(_ value: Any?) -> [Double] {
    (value as! [String]).map { Double($0)! }
}

/// Asserts two metric values agree to 1e-9 absolute (4 decimal places is the requirement; the
/// implementations follow the references' arithmetic order, so they agree to the last bit in practice).
func assertSameMetric(_ actual: Double, _ expected: Double, _ what: @autoclosure () -> String,
                      file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual, expected, accuracy: 1e-9, what(), file: file, line: line)
}

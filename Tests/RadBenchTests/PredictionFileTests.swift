import Foundation
import RadBench
import XCTest

final class PredictionFileTests: XCTestCase {
    private func parse(_ text: String) throws -> [PredictionRow] {
        try PredictionFile.parse(Data(text.utf8), file: "preds.jsonl")
    }

    private func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: line) { error in
            XCTAssertEqual((error as? PredictionFileError)?.description, expected, file: file, line: line)
        }
    }

    func testRowsAreReadWithTheirLineNumbersSkippingBlankLines() throws {
        let rows = try parse("""
            {"id": "a", "prediction": "CT", "reference": "MRI", "extra": 1}

            {"id": 7, "prediction": "", "reference": "x"}\r
            """)
        XCTAssertEqual(rows, [PredictionRow(id: "a", prediction: "CT", reference: "MRI", line: 1),
                              PredictionRow(id: "7", prediction: "", reference: "x", line: 3)])
    }

    func testMalformedLineGivesAnErrorNamingFileAndLine() {
        assertError("{\"id\":\"a\",\"prediction\":\"x\",\"reference\":\"y\"}\n{\"id\": \"b\", prediction}\n",
                    "preds.jsonl:2: not a JSON object on one line")
        assertError("[1, 2]", "preds.jsonl:1: expected a JSON object with id, prediction and reference")
    }

    func testMissingOrMistypedFieldsAreNamed() {
        assertError(#"{"id": "a", "prediction": "x"}"#, #"preds.jsonl:1: missing "reference""#)
        assertError(#"{"prediction": "x", "reference": "y"}"#, #"preds.jsonl:1: missing "id""#)
        assertError(#"{"id": "a", "prediction": 3, "reference": "y"}"#, #"preds.jsonl:1: "prediction" must be a string"#)
        assertError(#"{"id": true, "prediction": "x", "reference": "y"}"#, #"preds.jsonl:1: "id" must be a string or an integer"#)
        assertError(#"{"id": 1.5, "prediction": "x", "reference": "y"}"#, #"preds.jsonl:1: "id" must be a string or an integer"#)
    }

    func testDuplicateIDNamesBothLines() {
        assertError("""
            {"id": "a", "prediction": "x", "reference": "y"}
            {"id": "a", "prediction": "x", "reference": "y"}
            """, #"preds.jsonl:2: id "a" already used on line 1"#)
    }

    func testEmptyOrMissingFileIsAnError() {
        assertError("\n\n", "preds.jsonl: no prediction rows")
        XCTAssertThrowsError(try PredictionFile.load(path: "/nonexistent/preds.jsonl")) { error in
            XCTAssertTrue(String(describing: error).hasPrefix("/nonexistent/preds.jsonl: cannot read predictions"), "\(error)")
        }
    }
}

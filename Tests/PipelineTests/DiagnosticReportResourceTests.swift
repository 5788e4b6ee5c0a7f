import Foundation
@testable import Pipeline
import XCTest

/// The FHIR DiagnosticReport written per job: the documented content, as canonical JSON text.
final class DiagnosticReportResourceTests: XCTestCase {
    private func results() -> [TaskResult] {
        [TaskResult(task: .report, prompt: "Write a \"report\".", promptHash: "h1",
                    output: InferenceOutput(text: "No acute findings.\nLungs clear ✓", promptTokens: 1, generatedTokens: 1, milliseconds: 1)),
         TaskResult(task: .diagnosis, prompt: "Diagnosis?", promptHash: "h2",
                    output: InferenceOutput(text: "Pneumonia.", promptTokens: 1, generatedTokens: 1, milliseconds: 1))]
    }

    private func event(accession: String?) -> StudyEvent {
        StudyEvent(eventID: "event-1", occurredAt: Date(timeIntervalSince1970: 1_795_000_000.25), studyInstanceUID: "1.2.3",
                   accessionNumber: accession, storageRoot: "archive", series: [], tasks: [.report, .diagnosis], question: nil)
    }

    private func resource(_ event: StudyEvent, _ results: [TaskResult]) -> String {
        DiagnosticReportResource.json(event: event, jobID: 42, modelID: "radfm-test", results: results,
                                      issued: "2026-11-29T06:00:00.000Z", timestamp: DiagnosticReportResource.timestampFormatter())
    }

    func testReportCarriesTheStudyTheOutputsAndTheDiagnosisAsConclusion() throws {
        let text = resource(event(accession: "ACC-7"), results())
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(object["resourceType"] as? String, "DiagnosticReport")
        XCTAssertEqual(object["id"] as? String, "radfm-job-42")
        XCTAssertEqual(object["status"] as? String, "preliminary")
        XCTAssertEqual(object["conclusion"] as? String, "Pneumonia.")
        XCTAssertEqual(object["effectiveDateTime"] as? String, "2026-11-18T11:06:40.250Z")
        XCTAssertEqual(object["issued"] as? String, "2026-11-29T06:00:00.000Z")
        let identifiers = try XCTUnwrap(object["identifier"] as? [[String: Any]])
        XCTAssertEqual(identifiers.map { $0["value"] as? String }, ["event-1", "ACC-7"])
        let study = try XCTUnwrap((object["imagingStudy"] as? [[String: Any]])?.first?["identifier"] as? [String: Any])
        XCTAssertEqual(study["value"] as? String, "urn:oid:1.2.3")
        let forms = try XCTUnwrap(object["presentedForm"] as? [[String: Any]])
        XCTAssertEqual(forms.map { $0["title"] as? String }, ["RadFM report: Write a \"report\".", "RadFM diagnosis: Diagnosis?"])
        let first = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(forms.first?["data"] as? String)))
        XCTAssertEqual(String(decoding: first, as: UTF8.self), "No acute findings.\nLungs clear ✓")
    }

    func testTextIsCanonicalWithKeysSortedAtEveryLevel() throws {
        for accession in ["ACC-7", nil] {
            let text = resource(event(accession: accession), results())
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            XCTAssertEqual(CanonicalJSON.text(object), text)
        }
    }

    func testReportWithoutADiagnosisHasNoConclusion() throws {
        let text = resource(event(accession: nil), Array(results().prefix(1)))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertNil(object["conclusion"])
        XCTAssertEqual((object["identifier"] as? [Any])?.count, 1)
    }
}

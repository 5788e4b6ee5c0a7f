import Foundation
import Pipeline
import XCTest

final class StudyEventDecoderTests: XCTestCase {
    let decoder = StudyEventDecoder(maxEventBytes: 4096, defaultTasks: [.report, .diagnosis])

    func payload(_ mutate: (inout [String: Any]) -> Void = { _ in }) -> [UInt8] {
        var event: [String: Any] = [
            "schema": "radfm.study-event/v1", "event_id": "0b5e-1", "occurred_at": "2026-11-28T10:00:00Z",
            "study_instance_uid": "1.2.840.113619.2.1", "accession_number": "A123", "storage_root": "archive",
            "series": [["series_instance_uid": "1.2.840.113619.2.1.1", "modality": "CT", "instances": ["a/IM1.dcm", "a/IM2.dcm"]]],
            "tasks": ["report", "diagnosis"], "extra_field_from_a_newer_publisher": true,
        ]
        mutate(&event)
        return Array(try! JSONSerialization.data(withJSONObject: event))
    }

    func reason(_ bytes: [UInt8]) -> EventValidationError? {
        do { _ = try decoder.decode(bytes); return nil } catch { return error as? EventValidationError }
    }

    func testValidEventDecodesAndUnknownFieldsAreIgnored() throws {
        let event = try decoder.decode(payload())
        XCTAssertEqual(event.eventID, "0b5e-1")
        XCTAssertEqual(event.series.first?.instances, ["a/IM1.dcm", "a/IM2.dcm"])
        XCTAssertEqual(event.tasks, [.report, .diagnosis])
        XCTAssertEqual(event.instanceCount, 2)
    }

    func testEncodedEventDecodesToItself() throws {
        let event = try decoder.decode(payload { $0["question"] = "Is there a fracture?"; $0["tasks"] = ["vqa"] })
        XCTAssertEqual(try decoder.decode(event.encoded()), event)
    }

    func testMissingTasksFallBackToConfiguredDefaults() throws {
        XCTAssertEqual(try decoder.decode(payload { $0["tasks"] = nil }).tasks, [.report, .diagnosis])
    }

    func testMalformedJSONIsRefusedWithoutEventID() {
        let error = reason(Array("{\"event_id\": \"x\"".utf8))
        XCTAssertEqual(error?.kind, .notJSON)
        XCTAssertNil(error?.eventID)
    }

    func testMissingRequiredFieldNamesTheFieldAndKeepsTheEventID() {
        let error = reason(payload { $0["study_instance_uid"] = nil })
        XCTAssertEqual(error?.kind, .missingField)
        XCTAssertEqual(error?.reason, "missing required field study_instance_uid")
        XCTAssertEqual(error?.eventID, "0b5e-1")
    }

    func testBadUIDsAreRefused() {
        for uid in ["1.2.03", "1..2", "1.2.a", "", String(repeating: "1", count: 65), ".1.2"] {
            XCTAssertEqual(reason(payload { $0["study_instance_uid"] = uid })?.kind, .invalidField, uid)
        }
        XCTAssertTrue(DicomUID.isValid("1.2.0.10"))
    }

    func testUnsafePathsAreRefused() {
        for path in ["/etc/passwd", "../x.dcm", "a/../../x.dcm", "a//b.dcm", "./a.dcm", "a\\b.dcm"] {
            let error = reason(payload { $0["series"] = [["series_instance_uid": "1.2.3", "modality": "CT", "instances": [path]]] })
            XCTAssertEqual(error?.kind, .invalidField, path)
            XCTAssertTrue(error?.reason.hasPrefix("series[0].instances[0]") ?? false, error?.reason ?? "")
        }
    }

    func testOversizeEventIsRefusedUnread() {
        XCTAssertEqual(reason([UInt8](repeating: 0x20, count: 5000))?.kind, .oversize)
    }

    func testWrongSchemaUnknownTaskAndVQAWithoutQuestionAreRefused() {
        XCTAssertEqual(reason(payload { $0["schema"] = "radfm.study-event/v2" })?.kind, .wrongSchema)
        XCTAssertEqual(reason(payload { $0["tasks"] = ["segment"] })?.kind, .invalidField)
        XCTAssertEqual(reason(payload { $0["tasks"] = ["vqa"] })?.reason, "task vqa needs a question")
        XCTAssertEqual(reason(payload { $0["occurred_at"] = "yesterday" })?.kind, .invalidField)
        XCTAssertEqual(reason(payload { $0["series"] = [] })?.kind, .invalidField)
    }
}

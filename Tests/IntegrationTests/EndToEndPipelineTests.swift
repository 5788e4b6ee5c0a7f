import Foundation
import Kafka
import Pipeline
import Postgres
import XCTest

/// The whole path from topic to committed rows, against the real PostgreSQL and the real broker.
final class EndToEndPipelineTests: XCTestCase {
    func testFiftyEventsProduceFiftyJobsWithResultsAndAuditRowsExactlyOnce() throws {
        let harness = try PipelineHarness()
        try harness.makeStudies(count: 50, instances: 2)
        try harness.publish(harness.studies.map { harness.event(for: $0) })

        let engine = RecordingEngine()
        let consumer = harness.startConsumer(engine: engine)
        try harness.wait(for: "50 jobs") { try harness.count("SELECT count(*) AS n FROM jobs") == 50 }
        consumer.shutdown()

        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM jobs WHERE status = 'completed'"), 50)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 100, "two tasks per study")
        XCTAssertEqual(try harness.count("SELECT count(DISTINCT (study_instance_uid, task)) AS n FROM results"), 100)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM studies"), 50)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'job.completed'"), 50)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM dead_letters"), 0)
        XCTAssertEqual(try harness.count("SELECT coalesce(sum(next_offset), 0)::int AS n FROM consumer_offsets WHERE topic = $1", [harness.topic]), 50,
                       "next offsets cover every message exactly")
        // Each result names the study it was computed for.
        let mismatched = try harness.count("""
            SELECT count(*) AS n FROM results r WHERE r.output_text NOT LIKE r.task || ' for ' || r.study_instance_uid || ' from 2 images'
            """)
        XCTAssertEqual(mismatched, 0)
        XCTAssertGreaterThan(engine.batchSizes.max() ?? 0, 2, "tasks of several studies reach the engine in one call")
        // One FHIR DiagnosticReport per study, naming the study and carrying both outputs.
        XCTAssertEqual(try harness.count("""
            SELECT count(*) AS n FROM diagnostic_reports d JOIN jobs j USING (job_id)
            WHERE d.resource->>'status' = 'preliminary'
              AND d.resource #>> '{imagingStudy,0,identifier,value}' = 'urn:oid:' || j.study_instance_uid
              AND jsonb_array_length(d.resource->'presentedForm') = 2
              AND d.resource->>'conclusion' LIKE 'diagnosis for %'
            """), 50)
        XCTAssertTrue(try AuditLog.verify(harness.db).isIntact)
    }

    func testPoisonEventsAreDeadLetteredWithReasonsWhileValidOnesComplete() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 6)
        let valid = harness.studies.prefix(3).map { harness.event(for: $0) }

        // A path that leaves the root through a symbolic link, and a file that is not DICOM.
        try FileManager.default.createSymbolicLink(atPath: harness.storageRoot.appendingPathComponent("escape").path,
                                                   withDestinationPath: "/etc")
        var outside = harness.event(for: harness.studies[3])
        outside.series[0].instances = ["escape/passwd"]
        let corruptPath = "corrupt/IM0001.dcm"
        try FileManager.default.createDirectory(at: harness.storageRoot.appendingPathComponent("corrupt"), withIntermediateDirectories: true)
        var garbage = [UInt8](repeating: 0, count: 4096)
        for i in garbage.indices { garbage[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        try Data(garbage).write(to: harness.storageRoot.appendingPathComponent(corruptPath))
        var corrupt = harness.event(for: harness.studies[4])
        corrupt.series[0].instances = [corruptPath]
        var dotdot = harness.event(for: harness.studies[5])
        dotdot.series[0].instances = ["../../etc/passwd"]

        try harness.publish([
            (key: "k1", value: valid[0].encoded()),
            (key: "bad-json", value: Array("{\"schema\": \"radfm.study-event/v1\", \"event_id\": ".utf8)),
            (key: "k2", value: valid[1].encoded()),
            (key: outside.studyInstanceUID, value: outside.encoded()),
            (key: corrupt.studyInstanceUID, value: corrupt.encoded()),
            (key: dotdot.studyInstanceUID, value: dotdot.encoded()),
            (key: "k3", value: valid[2].encoded()),
        ])
        let consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "3 jobs and 4 dead letters") {
            try harness.count("SELECT count(*) AS n FROM jobs") == 3 && harness.count("SELECT count(*) AS n FROM dead_letters") == 4
        }
        consumer.shutdown()

        let rows = try harness.db.query("SELECT event_id, error_class, reason FROM dead_letters ORDER BY kafka_offset")
        XCTAssertEqual(rows.count, 4)
        XCTAssertNil(rows[0]["event_id"], "the malformed payload had no readable event id")
        XCTAssertEqual(rows[0]["error_class"], "event.notJSON")
        XCTAssertEqual(rows[1]["event_id"], outside.eventID)
        XCTAssertEqual(rows[1]["error_class"], "storage.escapesRoot")
        XCTAssertTrue(rows[1]["reason"]!.contains("escape/passwd"), rows[1]["reason"]!)
        XCTAssertEqual(rows[2]["event_id"], corrupt.eventID)
        XCTAssertTrue(rows[2]["error_class"]!.hasPrefix("dicom."), rows[2]["error_class"]!)
        XCTAssertTrue(rows[2]["reason"]!.contains(corruptPath), rows[2]["reason"]!)
        XCTAssertEqual(rows[3]["error_class"], "event.invalidField")
        XCTAssertTrue(rows[3]["reason"]!.contains("'..'"), rows[3]["reason"]!)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 6)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'event.dead_lettered'"), 4)

        let letters = try harness.deadLetterMessages(expected: 4)
        XCTAssertEqual(letters.count, 4)
        let classes = letters.compactMap { message in
            message.headers.first { $0.key == "radfm.error.class" }?.value.map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(Set(classes), ["event.notJSON", "storage.escapesRoot", classes.first { $0.hasPrefix("dicom.") } ?? "dicom.?", "event.invalidField"])
        for message in letters {
            XCTAssertEqual(message.headers.first { $0.key == "radfm.original.topic" }?.value, Array(harness.topic.utf8))
            XCTAssertNotNil(message.headers.first { $0.key == "radfm.original.offset" })
        }
        XCTAssertTrue(try AuditLog.verify(harness.db).isIntact)
    }

    func testStoppingAndRestartingMidStreamCreatesNoDuplicateResult() throws {
        let harness = try PipelineHarness()
        try harness.makeStudies(count: 50)
        let events = harness.studies.map { harness.event(for: $0) }
        try harness.publish(events)
        harness.settings.batchSize = 4

        for round in 0..<3 {
            let consumer = harness.startConsumer(engine: RecordingEngine())
            let target = 12 * (round + 1)
            try harness.wait(for: "\(target) jobs") { try harness.count("SELECT count(*) AS n FROM jobs") >= target }
            consumer.shutdown()
        }
        // Re-sending events already processed (same event ids) is a duplicate delivery, not new work.
        try harness.publish(Array(events.prefix(5)))
        let consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "50 jobs and 5 duplicate deliveries") {
            try harness.count("SELECT count(*) AS n FROM jobs") == 50
                && harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'event.duplicate_delivery'") == 5
        }
        consumer.shutdown()

        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 100)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'job.completed'"), 50)
        XCTAssertEqual(try harness.count("SELECT coalesce(sum(next_offset), 0)::int AS n FROM consumer_offsets WHERE topic = $1", [harness.topic]), 55)
        XCTAssertTrue(try AuditLog.verify(harness.db).isIntact)
    }

    func testReplayFromRewoundOffsetsWritesNothingTwice() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 10)
        try harness.publish(harness.studies.map { harness.event(for: $0) })
        var consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "10 jobs") { try harness.count("SELECT count(*) AS n FROM jobs") == 10 }
        consumer.shutdown()

        // An operator rewinds the partition (or a crash loses the offsets): everything is replayed.
        try harness.db.execute("UPDATE consumer_offsets SET next_offset = 0")
        consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "10 duplicate deliveries") {
            try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'event.duplicate_delivery'") == 10
        }
        consumer.shutdown()
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM jobs"), 10)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 20)
    }

    func testDiagnosisLabelsBecomeFindingsWithThePromptUsed() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 3)
        harness.settings.diagnosisLabels = ["pneumonia", "pleural effusion", "nodule"]
        try harness.publish(harness.studies.map { harness.event(for: $0) })
        let consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "3 jobs") { try harness.count("SELECT count(*) AS n FROM jobs") == 3 }
        consumer.shutdown()
        // report + free-text diagnosis + three yes/no questions per study
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 15)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM findings"), 9)
        let rows = try harness.db.query("SELECT label, status, prompt FROM findings GROUP BY 1, 2, 3 ORDER BY 1")
        XCTAssertEqual(rows.map { $0["label"] ?? "" }, ["nodule", "pleural effusion", "pneumonia"])
        XCTAssertEqual(rows.map { $0["status"] ?? "" }, ["uncertain", "absent", "present"])
        XCTAssertEqual(rows[2]["prompt"], "Does the image show signs of pneumonia?")
    }

    func testEngineInputFailurePoisonsOnlyThatStudy() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 4)
        let engine = RecordingEngine()
        engine.failingStudies = [harness.studies[1].studyInstanceUID]
        try harness.publish(harness.studies.map { harness.event(for: $0) })
        let consumer = harness.startConsumer(engine: engine)
        try harness.wait(for: "3 jobs and 1 dead letter") {
            try harness.count("SELECT count(*) AS n FROM jobs") == 3 && harness.count("SELECT count(*) AS n FROM dead_letters") == 1
        }
        consumer.shutdown()
        let row = try harness.db.query("SELECT study_instance_uid, error_class FROM dead_letters")[0]
        XCTAssertEqual(row["study_instance_uid"], harness.studies[1].studyInstanceUID)
        XCTAssertEqual(row["error_class"], "imaging.undecodable")
    }
}

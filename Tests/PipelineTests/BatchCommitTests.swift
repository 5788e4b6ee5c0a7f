import Foundation
import Logging
@testable import Pipeline
import Postgres
import TestSupport
import XCTest

/// `ResultStore.commit` writes a whole batch with one statement per table. These tests pin that the
/// outcome is what writing the messages one by one in partition/offset order gives: the first
/// delivery of an event id wins, a result already present is not written again, dead letters keep
/// their bytes, the audit chain follows batch order, and offsets only move forward.
final class BatchCommitTests: XCTestCase {
    private var db: PostgresConnection!
    private var drop: (() -> Void)?
    private var store: ResultStore!
    private let model = "model-v1"

    override func setUpWithError() throws {
        let database = try PostgresTestDatabase.create()
        drop = database.drop
        db = try PostgresConnection(url: database.url, applicationName: "batch-commit-tests")
        let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Migrations")
        _ = try Migrator(directory: migrations, logger: Logger(label: "batch-commit-tests")).migrate(db)
        store = ResultStore(connection: db, consumerGroup: "group")
        try store.registerModel(id: model, checkpointSHA256: nil, description: "test")
    }

    override func tearDownWithError() throws {
        db?.close()
        drop?()
    }

    private func completed(_ offset: Int64, partition: Int32 = 0, event id: String, study: String, findingLabel: String? = nil) -> ProcessedMessage {
        let event = StudyEvent(eventID: id, occurredAt: Date(timeIntervalSince1970: 1_800_000_000), studyInstanceUID: study,
                               accessionNumber: "ACC-\(study)", storageRoot: "archive",
                               series: [.init(seriesInstanceUID: study + ".1", modality: "CT", instances: ["a.dcm", "b.dcm"])],
                               tasks: [.report, .diagnosis], question: nil)
        var results = [StudyTask.report, .diagnosis].map { task in
            TaskResult(task: task, prompt: "prompt \(task.rawValue)", promptHash: "hash-\(task.rawValue)",
                       output: InferenceOutput(text: "\(task.rawValue) of \(study) \"quoted\" \\ back", promptTokens: 3, generatedTokens: 4, milliseconds: 1.5))
        }
        if let findingLabel {
            results.append(TaskResult(task: .diagnosis, prompt: "Is there \(findingLabel)?", promptHash: "hash-\(findingLabel)",
                                      output: InferenceOutput(text: "Yes.", promptTokens: 3, generatedTokens: 1, milliseconds: 0.5),
                                      finding: Finding(label: findingLabel, answer: "Yes.")))
        }
        return ProcessedMessage(position: MessagePosition(topic: "studies", partition: partition, offset: offset),
                                outcome: .completed(event: event, receivedAt: Date(), results: results))
    }

    private func deadLetter(_ offset: Int64, partition: Int32 = 0, payload: [UInt8], key: [UInt8]?) -> ProcessedMessage {
        var letter = DeadLetter(eventID: nil, studyInstanceUID: nil, errorClass: "event.malformed", reason: "not JSON, \"really\"", payload: payload)
        letter.key = key
        return ProcessedMessage(position: MessagePosition(topic: "studies", partition: partition, offset: offset), outcome: .deadLettered(letter))
    }

    private static func summary(_ build: (inout CommitSummary) -> Void) -> CommitSummary {
        var summary = CommitSummary()
        build(&summary)
        return summary
    }

    private func count(_ sql: String) throws -> Int { try db.query(sql)[0].decode("n", as: Int.self) }

    func testBatchIsWrittenAsIfMessageByMessageInPartitionAndOffsetOrder() throws {
        let payload: [UInt8] = [0x00, 0x22, 0x5C, 0x7B, 0xFF]
        // Deliberately out of order: the store sorts by partition, then offset.
        let batch = [
            completed(0, partition: 1, event: "event-c", study: "study-y"),
            completed(3, event: "event-b", study: "study-x", findingLabel: "pneumonia"),
            completed(0, event: "event-a", study: "study-x", findingLabel: "pneumonia"),
            deadLetter(2, payload: payload, key: [0x22, 0x5C]),
            completed(1, event: "event-a", study: "study-x"),
        ]
        let summary = try store.commit(batch, modelID: model)

        XCTAssertEqual(summary, Self.summary { $0.jobsWritten = 3; $0.resultsWritten = 5; $0.resultsAlreadyPresent = 3
            $0.duplicateDeliveries = 1; $0.deadLettersWritten = 1 })
        let jobs = try db.query("SELECT event_id, kafka_offset, tasks::text AS tasks FROM jobs ORDER BY job_id")
            .map { "\($0["event_id"]!)@\($0["kafka_offset"]!) \($0["tasks"]!)" }
        XCTAssertEqual(jobs, ["event-a@0 {report,diagnosis}", "event-b@3 {report,diagnosis}", "event-c@0 {report,diagnosis}"])
        XCTAssertEqual(try count("SELECT count(*) AS n FROM results r JOIN jobs j USING (job_id) WHERE j.event_id = 'event-a'"), 3)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM results r JOIN jobs j USING (job_id) WHERE j.event_id = 'event-b'"), 0)
        XCTAssertEqual(try db.query("SELECT output_text FROM results WHERE study_instance_uid = 'study-y' AND task = 'report'")[0]["output_text"],
                       "report of study-y \"quoted\" \\ back")
        XCTAssertEqual(try count("SELECT count(*) AS n FROM findings WHERE label = 'pneumonia' AND status = 'present'"), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM diagnostic_reports"), 3)
        let study = try db.query("SELECT first_event_id, accession_number FROM studies WHERE study_instance_uid = 'study-x'")[0]
        XCTAssertEqual(study["first_event_id"], "event-a")
        XCTAssertEqual(study["accession_number"], "ACC-study-x")

        let letter = try db.query("SELECT encode(payload, 'hex') AS payload, encode(message_key, 'hex') AS message_key, event_id, reason FROM dead_letters")
        XCTAssertEqual(letter.count, 1)
        XCTAssertEqual(letter[0]["payload"], "00225c7bff")
        XCTAssertEqual(letter[0]["message_key"], "225c")
        XCTAssertNil(letter[0]["event_id"])
        XCTAssertEqual(letter[0]["reason"], "not JSON, \"really\"")

        let audit = try db.query("SELECT action, coalesce(event_id, '-') AS event FROM audit_log ORDER BY seq").map { "\($0["action"]!) \($0["event"]!)" }
        XCTAssertEqual(audit, ["job.completed event-a", "event.duplicate_delivery event-a", "event.dead_lettered -",
                               "job.completed event-b", "job.completed event-c"])
        XCTAssertTrue(try AuditLog.verify(db).isIntact)
        XCTAssertEqual(try store.storedOffsets(topic: "studies", partitions: [0, 1, 2]), [0: 4, 1: 1])
    }

    func testReplayedBatchWritesNothingAndLaterDeliveriesAreAuditedAsDuplicates() throws {
        let batch = [completed(0, event: "event-a", study: "study-x"), deadLetter(1, payload: [1], key: nil)]
        _ = try store.commit(batch, modelID: model)

        let replay = try store.commit(batch, modelID: model)
        XCTAssertEqual(replay, Self.summary { $0.alreadyCommitted = 2 })

        let resent = try store.commit([completed(2, event: "event-a", study: "study-x")], modelID: model)
        XCTAssertEqual(resent, Self.summary { $0.duplicateDeliveries = 1 })
        XCTAssertEqual(try count("SELECT count(*) AS n FROM jobs"), 1)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM results"), 2)
        XCTAssertEqual(try count("SELECT count(*) AS n FROM audit_log"), 3)
        XCTAssertTrue(try AuditLog.verify(db).isIntact)
        XCTAssertEqual(try store.storedOffsets(topic: "studies", partitions: [0]), [0: 3])
    }
}

import Foundation
import Logging
import Pipeline
import Postgres
import TestSupport
import XCTest

/// The schema of Migrations/ on a real server: migrate is idempotent, the audit log is append-only
/// and chained, results are unique per (study, task, model, prompt hash) and agree with their job.
final class SchemaTests: XCTestCase {
    private var db: PostgresConnection!
    private var drop: (() -> Void)!
    private let migrations = PipelineHarness.repositoryRoot.appendingPathComponent("Migrations")

    override func setUpWithError() throws {
        let database = try PostgresTestDatabase.create()
        drop = database.drop
        db = try PostgresConnection(url: database.url)
    }

    override func tearDown() {
        db?.close()
        drop?()
    }

    func testMigrateTwiceIsANoOp() throws {
        let migrator = Migrator(directory: migrations, logger: Logger(label: "test"))
        let first = try migrator.migrate(db)
        XCTAssertFalse(first.isEmpty)
        XCTAssertEqual(try migrator.migrate(db).count, 0)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM schema_migrations")[0].decode("n", as: Int.self), first.count)
    }

    func testAuditLogRefusesUpdateAndDeleteAndVerifyFindsTampering() throws {
        _ = try Migrator(directory: migrations, logger: Logger(label: "test")).migrate(db)
        for i in 0..<5 {
            try AuditLog.append(db, action: "test.entry", studyInstanceUID: "1.2.3.\(i)", details: ["i": i, "note": "ünïcode ✓"])
        }
        let intact = try AuditLog.verify(db)
        XCTAssertTrue(intact.isIntact, intact.problem ?? "")
        XCTAssertEqual(intact.rowsChecked, 5)

        XCTAssertThrowsError(try db.execute("UPDATE audit_log SET action = 'forged' WHERE seq = 2")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42501")
        }
        XCTAssertThrowsError(try db.execute("DELETE FROM audit_log WHERE seq = 2"))
        XCTAssertThrowsError(try db.execute("TRUNCATE audit_log"))

        // A superuser who disables the trigger can still rewrite history; verify must notice.
        try db.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
        try db.execute("UPDATE audit_log SET details = '{\"i\": 99}'::jsonb WHERE seq = 3")
        let report = try AuditLog.verify(db)
        XCTAssertEqual(report.firstBrokenSeq, 3)
        XCTAssertEqual(report.rowsChecked, 2)
    }

    func testResultsAndReportsMustCopyTheirJobsStudyAndModel() throws {
        _ = try Migrator(directory: migrations, logger: Logger(label: "test")).migrate(db)
        try db.execute("INSERT INTO models (model_id) VALUES ('m1'), ('m2')")
        try db.execute("""
            INSERT INTO studies (study_instance_uid, storage_root, series_count, instance_count, first_event_id)
            VALUES ('1.2.1', 'root', 1, 1, 'e1'), ('1.2.2', 'root', 1, 1, 'e2')
            """)
        let job = try db.query("""
            INSERT INTO jobs (event_id, study_instance_uid, topic, kafka_partition, kafka_offset, tasks, model_id, status, received_at)
            VALUES ('e1', '1.2.1', 't', 0, 0, '{report}', 'm1', 'completed', now()) RETURNING job_id
            """)[0].decode("job_id", as: Int64.self)
        func insertResult(study: String, model: String) throws {
            try db.execute("""
                INSERT INTO results (job_id, study_instance_uid, task, model_id, prompt_hash, prompt, output_text,
                                     prompt_tokens, generated_tokens, inference_ms)
                VALUES ($1, $2, 'report', $3, $4, 'p', 'o', 1, 1, 0)
                """, [job, study, model, "\(study)-\(model)"])
        }
        func insertReport(study: String, model: String) throws {
            try db.execute("""
                INSERT INTO diagnostic_reports (job_id, study_instance_uid, model_id, resource)
                VALUES ($1, $2, $3, '{"resourceType": "DiagnosticReport"}')
                """, [job, study, model])
        }
        // Both other studies and models exist: only the composite key to the job can refuse these.
        for (study, model) in [("1.2.2", "m1"), ("1.2.1", "m2")] {
            XCTAssertThrowsError(try insertResult(study: study, model: model)) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23503") }
            XCTAssertThrowsError(try insertReport(study: study, model: model)) { XCTAssertEqual(($0 as? PostgresError)?.sqlState, "23503") }
        }
        XCTAssertNoThrow(try insertResult(study: "1.2.1", model: "m1"))
        XCTAssertNoThrow(try insertReport(study: "1.2.1", model: "m1"))
    }

    func testQARoleCanReadButNotWrite() throws {
        _ = try Migrator(directory: migrations, logger: Logger(label: "test")).migrate(db)
        try db.execute("SET ROLE radfm_qa")
        XCTAssertNoThrow(try db.query("SELECT count(*) FROM results"))
        XCTAssertThrowsError(try db.execute("INSERT INTO models (model_id) VALUES ('x')")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42501")
        }
        try db.execute("RESET ROLE")
        try db.execute("SET ROLE radfm_writer")
        XCTAssertThrowsError(try db.execute("DELETE FROM audit_log")) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "42501")
        }
    }
}

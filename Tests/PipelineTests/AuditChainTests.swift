import Foundation
import Logging
@testable import Pipeline
import Postgres
import TestSupport
import XCTest

/// The chain triggers of Migrations/ (head locked once per statement, moved once per statement): rows
/// from concurrent writers, multi-row statements and multi-statement transactions still form one
/// unbroken chain in seq order that `AuditLog.verify` recomputes, and rows written under the older
/// per-row trigger stay valid links of the same chain.
final class AuditChainTests: XCTestCase {
    private var url: String!
    private var drop: (() -> Void)?
    private static let migrations = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Migrations")

    override func setUpWithError() throws {
        let database = try PostgresTestDatabase.create()
        url = database.url
        drop = database.drop
    }

    override func tearDown() {
        drop?()
    }

    private func migrate(_ db: PostgresConnection, from directory: URL = migrations) throws {
        _ = try Migrator(directory: directory, logger: Logger(label: "audit-chain-tests")).migrate(db)
    }

    private func entries(_ writer: Int, _ round: Int, count: Int) -> [AuditEntry] {
        (0..<count).map { AuditEntry(action: "test.batch", eventID: "w\(writer)-r\(round)-\($0)", details: ["writer": writer, "row": $0]) }
    }

    func testConcurrentMultiRowWritersFormOneChainWithoutGaps() throws {
        let db = try PostgresConnection(url: url, applicationName: "audit-chain-tests")
        defer { db.close() }
        try migrate(db)
        let writers = 4, rounds = 15, rowsPerStatement = 6
        let failures = FailureList()
        let finished = DispatchGroup()
        for writer in 0..<writers {
            finished.enter()
            Thread { [url = url!] in
                defer { finished.leave() }
                do {
                    let connection = try PostgresConnection(url: url, applicationName: "audit-chain-writer")
                    defer { connection.close() }
                    for round in 0..<rounds {
                        // Two statements in one transaction, and a rolled-back one that must leave no gap.
                        try connection.transaction { tx in
                            try AuditLog.append(tx, self.entries(writer, round, count: rowsPerStatement))
                            try AuditLog.append(tx, action: "test.single", eventID: "w\(writer)-r\(round)-single")
                        }
                        try? connection.transaction { tx in
                            try AuditLog.append(tx, self.entries(writer, round + 1000, count: 2))
                            throw CancellationError()
                        }
                    }
                } catch {
                    failures.add("writer \(writer): \(error)")
                }
            }.start()
        }
        finished.wait()
        XCTAssertEqual(failures.all, [])

        let report = try AuditLog.verify(db, pageSize: 50)
        XCTAssertTrue(report.isIntact, report.problem ?? "")
        XCTAssertEqual(report.rowsChecked, writers * rounds * (rowsPerStatement + 1))
        // Each statement's rows are consecutive links, in the statement's order.
        let rows = try db.query("SELECT event_id FROM audit_log WHERE action = 'test.batch' ORDER BY seq")
        let ids = try rows.map { try $0.decode("event_id", as: String.self) }
        for start in stride(from: 0, to: ids.count, by: rowsPerStatement) {
            let prefix = ids[start].dropLast(2)
            XCTAssertEqual(Array(ids[start..<(start + rowsPerStatement)]), (0..<rowsPerStatement).map { "\(prefix)-\($0)" })
        }
    }

    func testRowsChainedBeforeTheStatementLevelTriggerStayValidLinks() throws {
        let db = try PostgresConnection(url: url, applicationName: "audit-chain-tests")
        defer { db.close() }
        let older = FileManager.default.temporaryDirectory.appendingPathComponent("audit-chain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: older, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: older) }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.migrations.path).sorted()
        for name in files where name.hasSuffix(".sql") && name < "0004" {
            try FileManager.default.copyItem(at: Self.migrations.appendingPathComponent(name), to: older.appendingPathComponent(name))
        }
        try migrate(db, from: older)
        try AuditLog.append(db, entries(0, 0, count: 3))
        try migrate(db)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM schema_migrations WHERE version = 4")[0].decode("n", as: Int.self), 1)
        try AuditLog.append(db, entries(0, 1, count: 3))

        let report = try AuditLog.verify(db)
        XCTAssertTrue(report.isIntact, report.problem ?? "")
        XCTAssertEqual(report.rowsChecked, 6)
    }

    func testRemovingTheLastRowsIsStillDetectedAfterLaterAppends() throws {
        let db = try PostgresConnection(url: url, applicationName: "audit-chain-tests")
        defer { db.close() }
        try migrate(db)
        try AuditLog.append(db, entries(0, 0, count: 4))
        // A superuser who bypasses the refusal trigger and cuts the tail; the next rows link to the head.
        try db.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
        try db.execute("DELETE FROM audit_log WHERE seq = 4")
        try db.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
        try AuditLog.append(db, entries(0, 1, count: 2))

        let report = try AuditLog.verify(db)
        XCTAssertEqual(report.firstBrokenSeq, 5)
        XCTAssertEqual(report.rowsChecked, 3)
    }
}

private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String] = []
    func add(_ failure: String) { lock.lock(); failures.append(failure); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return failures }
}

import Postgres
import XCTest

final class TransactionTests: DatabaseTestCase {
    private struct BodyFailed: Error, Equatable {}

    override func setUpWithError() throws {
        try super.setUpWithError()
        try connection.execute("CREATE TABLE findings (id int PRIMARY KEY, text text NOT NULL)")
    }

    private func findingCount(seenFrom other: PostgresConnection) throws -> Int {
        try XCTUnwrap(other.query("SELECT count(*) AS n FROM findings").first).decode("n")
    }

    func testTransactionCommitsOnSuccessAndReturnsTheBodysValue() throws {
        let inserted = try connection.transaction { connection in
            try connection.execute("INSERT INTO findings VALUES ($1, $2), ($3, $4)", [1, "nodule", 2, "effusion"])
        }
        XCTAssertEqual(inserted, 2)
        let observer = try PostgresConnection(url: databaseURL)
        XCTAssertEqual(try findingCount(seenFrom: observer), 2)
    }

    func testTransactionRollsBackWhenBodyThrowsAndRethrowsTheSameError() throws {
        XCTAssertThrowsError(try connection.transaction { connection in
            try connection.execute("INSERT INTO findings VALUES ($1, $2)", [1, "nodule"])
            throw BodyFailed()
        }) { error in
            XCTAssertEqual(error as? BodyFailed, BodyFailed())
        }
        XCTAssertEqual(try findingCount(seenFrom: connection), 0)
    }

    func testStatementErrorCaughtInsideTheBodyIsNotReportedAsACommit() throws {
        XCTAssertThrowsError(try connection.transaction { connection in
            try connection.execute("INSERT INTO findings VALUES ($1, $2)", [1, "nodule"])
            _ = try? connection.execute("INSERT INTO findings VALUES ($1, $2)", [1, "duplicate"])
        }) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "25P02")
        }
        XCTAssertEqual(try findingCount(seenFrom: connection), 0)
    }

    func testNestedTransactionIsRefusedAndOuterOneRollsBack() throws {
        XCTAssertThrowsError(try connection.transaction { connection in
            try connection.execute("INSERT INTO findings VALUES ($1, $2)", [1, "nodule"])
            try connection.transaction { _ in }
        })
        XCTAssertEqual(try findingCount(seenFrom: connection), 0)
    }

    func testConnectionLostInsideTheBodyRethrowsTheTransientErrorNotTheFailedRollback() throws {
        let pid: Int = try XCTUnwrap(connection.query("SELECT pg_backend_pid() AS pid").first).decode("pid")
        let admin = try PostgresConnection(url: databaseURL)
        XCTAssertThrowsError(try connection.transaction { connection in
            try connection.execute("INSERT INTO findings VALUES ($1, $2)", [1, "nodule"])
            try admin.execute("SELECT pg_terminate_backend($1)", [pid])
            try connection.execute("INSERT INTO findings VALUES ($1, $2)", [2, "effusion"])
        }) { error in
            guard let error = error as? PostgresError else { return XCTFail("not a PostgresError: \(error)") }
            XCTAssertTrue(error.isTransient, "\(error)")
            XCTAssertTrue(error.message.contains("INSERT INTO findings"), error.message)
        }
        XCTAssertEqual(try findingCount(seenFrom: admin), 0)
    }

    func testRequestedIsolationLevelIsUsed() throws {
        let level = try connection.transaction(isolation: .serializable) { connection in
            try connection.query("SHOW transaction_isolation").first?["transaction_isolation"]
        }
        XCTAssertEqual(level, "serializable")
        let repeatable = try connection.transaction(isolation: .repeatableRead) { connection in
            try connection.query("SHOW transaction_isolation").first?["transaction_isolation"]
        }
        XCTAssertEqual(repeatable, "repeatable read")
    }
}

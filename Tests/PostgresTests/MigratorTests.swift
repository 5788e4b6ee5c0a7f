import Foundation
import Logging
import Postgres
import XCTest

final class MigratorTests: DatabaseTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("radfm-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
        super.tearDown()
    }

    private var migrator: Migrator { Migrator(directory: directory, logger: Logger(label: "migrator-tests")) }

    private func write(_ fileName: String, _ sql: String) throws {
        try Data(sql.utf8).write(to: directory.appendingPathComponent(fileName))
    }

    /// Versions 1, 2 and 10: in file-name order "10_..." sorts before "1_...", and 10 needs 2's column.
    private func writeThreeMigrations() throws {
        try write("1_create_findings.sql", "CREATE TABLE findings (id int PRIMARY KEY);")
        try write("2_add_text.sql", "ALTER TABLE findings ADD COLUMN text text;")
        try write("10_index_text.sql", "CREATE INDEX findings_text ON findings (text);")
    }

    private func recordedVersions(_ connection: PostgresConnection) throws -> [Int] {
        try connection.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.decode("version") }
    }

    private func assertMigrationError(
        _ kind: MigrationError.Kind, naming file: String, _ expression: @autoclosure () throws -> some Any,
        line: UInt = #line
    ) {
        XCTAssertThrowsError(try expression(), line: line) { error in
            guard let error = error as? MigrationError else { return XCTFail("not a MigrationError: \(error)", line: line) }
            XCTAssertEqual(error.kind, kind, line: line)
            XCTAssertEqual(error.file, file, line: line)
            XCTAssertTrue(error.description.contains(file), error.description, line: line)
        }
    }

    func testAppliesFilesInNumericOrderAndRecordsTheirChecksums() throws {
        try writeThreeMigrations()
        let applied = try migrator.migrate(connection)
        XCTAssertEqual(applied.map(\.version), [1, 2, 10])
        XCTAssertEqual(applied.map(\.name), ["create_findings", "add_text", "index_text"])
        let rows = try connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
        XCTAssertEqual(try rows.map { try $0.decode("version", as: Int.self) }, [1, 2, 10])
        XCTAssertEqual(rows.last?["checksum"], SHA256.hex("CREATE INDEX findings_text ON findings (text);"))
        XCTAssertNotNil(try rows.first?.decode("applied_at", as: Date.self))
    }

    func testSecondRunIsANoOp() throws {
        try writeThreeMigrations()
        XCTAssertEqual(try migrator.migrate(connection).count, 3)
        XCTAssertEqual(try migrator.migrate(connection), [])
        XCTAssertEqual(try recordedVersions(connection), [1, 2, 10])
    }

    func testTwoConcurrentMigratorsApplyEachMigrationExactlyOnce() throws {
        try write("1_slow_start.sql", "CREATE TABLE runs (migration int); SELECT pg_sleep(0.3); INSERT INTO runs VALUES (1);")
        try write("2_second.sql", "INSERT INTO runs VALUES (2);")
        try write("3_third.sql", "INSERT INTO runs VALUES (3);")
        let connections = [try PostgresConnection(url: databaseURL), try PostgresConnection(url: databaseURL)]
        let results = ThreadResults()
        let group = DispatchGroup()
        for connection in connections {
            group.enter()
            Thread {
                results.record(Result { try self.migrator.migrate(connection) })
                group.leave()
            }.start()
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let appliedCounts = try results.all.map { try $0.get().count }
        XCTAssertEqual(appliedCounts.sorted(), [0, 3])
        XCTAssertEqual(try connection.query("SELECT migration FROM runs ORDER BY migration").map { try $0.decode("migration", as: Int.self) }, [1, 2, 3])
        XCTAssertEqual(try recordedVersions(connection), [1, 2, 3])
    }

    func testChangedFileIsRefusedNamingTheFileAndBothChecksums() throws {
        try writeThreeMigrations()
        try migrator.migrate(connection)
        let edited = "ALTER TABLE findings ADD COLUMN text varchar(100);"
        try write("2_add_text.sql", edited)
        XCTAssertThrowsError(try migrator.migrate(connection)) { error in
            guard let error = error as? MigrationError else { return XCTFail("not a MigrationError: \(error)") }
            XCTAssertEqual(error.kind, .checksumChanged)
            XCTAssertEqual(error.file, "2_add_text.sql")
            XCTAssertTrue(error.description.contains(SHA256.hex("ALTER TABLE findings ADD COLUMN text text;")), error.description)
            XCTAssertTrue(error.description.contains(SHA256.hex(edited)), error.description)
        }
    }

    func testFailingMigrationRollsBackIsNotRecordedAndReleasesTheLock() throws {
        try write("1_create_findings.sql", "CREATE TABLE findings (id int PRIMARY KEY);")
        try write("2_broken.sql", "CREATE TABLE half_done (id int); INSERT INTO no_such_table VALUES (1);")
        assertMigrationError(.statementFailed, naming: "2_broken.sql", try migrator.migrate(connection))
        XCTAssertEqual(try recordedVersions(connection), [1])
        XCTAssertEqual(try connection.query("SELECT to_regclass('half_done') AS t").first?["t"], nil as String?)

        let other = try PostgresConnection(url: databaseURL)
        let locked: Bool = try XCTUnwrap(other.query("SELECT pg_try_advisory_lock($1) AS got", [Migrator.advisoryLockKey]).first).decode("got")
        XCTAssertTrue(locked, "the migration lock is still held after the failure")
    }

    func testUnderlyingDatabaseErrorOfAFailedMigrationIsKept() throws {
        try write("1_broken.sql", "SELEC 1;")
        XCTAssertThrowsError(try migrator.migrate(connection)) { error in
            XCTAssertEqual(((error as? MigrationError)?.underlying as? PostgresError)?.sqlState, "42601")
        }
    }

    func testMalformedFileNameIsRefused() throws {
        try write("1_ok.sql", "SELECT 1;")
        try write("add_index.sql", "SELECT 1;")
        assertMigrationError(.malformedFileName, naming: "add_index.sql", try migrator.migrate(connection))
    }

    func testDuplicateVersionIsRefused() throws {
        try write("1_first.sql", "SELECT 1;")
        try write("01_also_first.sql", "SELECT 1;")
        XCTAssertThrowsError(try migrator.migrate(connection)) { error in
            XCTAssertEqual((error as? MigrationError)?.kind, .duplicateVersion)
            XCTAssertTrue(String(describing: error).contains("1_first.sql") && String(describing: error).contains("01_also_first.sql"))
        }
        XCTAssertEqual(try connection.query("SELECT to_regclass('schema_migrations') AS t").first?["t"], nil as String?)
    }

    func testAppliedVersionWithoutFileIsRefused() throws {
        try writeThreeMigrations()
        try migrator.migrate(connection)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("2_add_text.sql"))
        assertMigrationError(.fileMissing, naming: "version 2", try migrator.migrate(connection))
    }

    func testNewFileNumberedBelowAnAppliedOneIsRefused() throws {
        try write("1_first.sql", "SELECT 1;")
        try write("3_third.sql", "SELECT 1;")
        try migrator.migrate(connection)
        try write("2_late.sql", "SELECT 1;")
        assertMigrationError(.outOfOrder, naming: "2_late.sql", try migrator.migrate(connection))
    }

    func testMigrationThatCommitsItselfIsRefusedAndNotRecorded() throws {
        try write("1_commits.sql", "CREATE TABLE findings (id int); COMMIT;")
        assertMigrationError(.endedTransaction, naming: "1_commits.sql", try migrator.migrate(connection))
        XCTAssertEqual(try recordedVersions(connection), [])
    }

    func testStatusShowsAppliedAndPendingWithoutCreatingTheTable() throws {
        try writeThreeMigrations()
        XCTAssertEqual(try migrator.status(connection).map(\.applied), [false, false, false])
        XCTAssertEqual(try connection.query("SELECT to_regclass('schema_migrations') AS t").first?["t"], nil as String?)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("10_index_text.sql"))
        try migrator.migrate(connection)
        try write("10_index_text.sql", "CREATE INDEX findings_text ON findings (text);")
        let status = try migrator.status(connection)
        XCTAssertEqual(status.map(\.migration.version), [1, 2, 10])
        XCTAssertEqual(status.map(\.applied), [true, true, false])
    }
}

/// Results handed back from worker threads.
private final class ThreadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[AppliedMigration], Error>] = []

    var all: [Result<[AppliedMigration], Error>] { lock.withLock { results } }

    func record(_ result: Result<[AppliedMigration], Error>) { lock.withLock { results.append(result) } }
}

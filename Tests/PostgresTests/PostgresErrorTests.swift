import Foundation
import Logging
import Postgres
import XCTest

final class PostgresErrorTests: DatabaseTestCase {
    func testDuplicateKeyIsAUniqueViolationWhoseMessageLeavesOutTheKeyValue() throws {
        try connection.execute("CREATE TABLE studies (study_instance_uid text PRIMARY KEY)")
        try connection.execute("INSERT INTO studies VALUES ($1)", ["1.2.840.99999"])
        XCTAssertThrowsError(try connection.execute("INSERT INTO studies VALUES ($1)", ["1.2.840.99999"])) { error in
            guard let error = error as? PostgresError else { return XCTFail("not a PostgresError: \(error)") }
            XCTAssertEqual(error.sqlState, "23505")
            XCTAssertTrue(error.isUniqueViolation)
            XCTAssertFalse(error.isTransient)
            XCTAssertEqual(error.constraint, "studies_pkey")
            XCTAssertFalse(error.message.contains("1.2.840.99999"), error.message)
            XCTAssertTrue(error.message.contains("while running: INSERT INTO studies"), error.message)
        }
    }

    func testSyntaxErrorHasSQLState42601AndNamesTheStatement() {
        XCTAssertThrowsError(try connection.query("SELEC 1")) { error in
            guard let error = error as? PostgresError else { return XCTFail("not a PostgresError: \(error)") }
            XCTAssertEqual(error.sqlState, "42601")
            XCTAssertFalse(error.isTransient)
            XCTAssertFalse(error.isUniqueViolation)
            XCTAssertTrue(error.description.contains("SELEC 1"), error.description)
        }
    }

    func testTerminatedSessionGivesTransientErrorAndReconnectRecovers() throws {
        let pid: Int = try XCTUnwrap(connection.query("SELECT pg_backend_pid() AS pid").first).decode("pid")
        let admin = try PostgresConnection(url: databaseURL)
        let terminated: Bool = try XCTUnwrap(admin.query("SELECT pg_terminate_backend($1) AS done", [pid]).first).decode("done")
        XCTAssertTrue(terminated)

        XCTAssertThrowsError(try connection.query("SELECT 1")) { error in
            guard let error = error as? PostgresError else { return XCTFail("not a PostgresError: \(error)") }
            XCTAssertTrue(error.isTransient, "\(error)")
        }
        XCTAssertFalse(connection.isConnected)
        try connection.reconnect()
        XCTAssertTrue(connection.isConnected)
        XCTAssertEqual(try connection.query("SELECT 41 + 1 AS answer").first?["answer"], "42")
    }

    func testClosedConnectionRefusesStatementsAndCloseIsIdempotent() {
        connection.close()
        connection.close()
        XCTAssertFalse(connection.isConnected)
        XCTAssertThrowsError(try connection.query("SELECT 1")) { error in
            XCTAssertTrue(String(describing: error).contains("closed"), "\(error)")
        }
    }

    func testServerWarningsReachTheLogger() throws {
        let messages = CapturedLogMessages()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(messages: messages) }
        let logged = try PostgresConnection(url: databaseURL, logger: logger)
        try logged.executeScript("DO $$ BEGIN RAISE WARNING 'disk nearly full'; END $$")
        XCTAssertEqual(messages.entries.map(\.message), ["disk nearly full"])
        XCTAssertEqual(messages.entries.first?.level, .warning)
    }
}

final class PostgresConnectFailureTests: XCTestCase {
    func testConnectingToAClosedPortGivesATransientErrorNamingTheServer() throws {
        let port = try unusedLoopbackPort()
        XCTAssertThrowsError(try PostgresConnection(url: "postgresql://postgres@127.0.0.1:\(port)/postgres")) { error in
            guard let error = error as? PostgresError else { return XCTFail("not a PostgresError: \(error)") }
            XCTAssertTrue(error.isTransient)
            XCTAssertNil(error.sqlState)
            XCTAssertTrue(error.message.contains("127.0.0.1") && error.message.contains("\(port)"), error.message)
        }
    }

    /// A port the kernel just handed out and nobody listens on any more.
    private func unusedLoopbackPort() throws -> UInt16 {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(socketDescriptor, 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socketDescriptor, socketAddress, length) == 0 && getsockname(socketDescriptor, socketAddress, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        return UInt16(bigEndian: address.sin_port)
    }
}

/// Log lines captured by `CapturingLogHandler`, shared between the handler's copies.
final class CapturedLogMessages: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(level: Logger.Level, message: String)] = []

    var entries: [(level: Logger.Level, message: String)] { lock.withLock { stored } }

    func append(_ level: Logger.Level, _ message: String) { lock.withLock { stored.append((level, message)) } }
}

struct CapturingLogHandler: LogHandler {
    let messages: CapturedLogMessages
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        messages.append(event.level, "\(event.message)")
    }
}

import CLibPQ
import Foundation
import Logging

/// One session with a PostgreSQL server over libpq; the only file that calls libpq.
///
/// Synchronous and not thread-safe (neither is a PGconn): use one connection from one thread at a time.
/// Every value travels as a text-format bind parameter ($1, $2, ...), never spliced into SQL.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    private let url: String
    private let applicationName: String
    private let notices: NoticeLogger

    /// Opens a session. `url` is a libpq URI (postgresql://user@host:port/db?sslmode=require) or a
    /// key=value conninfo string; `applicationName` is used when `url` names none (it shows in
    /// pg_stat_activity). Throws a transient `PostgresError` when the server cannot be reached.
    public init(url: String, applicationName: String = "radfm", logger: Logger = Logger(label: "radfm.postgres")) throws {
        self.url = url
        self.applicationName = applicationName
        self.notices = NoticeLogger(logger: logger)
        self.handle = try Self.connect(url: url, applicationName: applicationName, notices: notices)
    }

    deinit { close() }

    /// Whether the session was healthy when last used. A server that went away is only noticed by the
    /// next statement, which then throws a transient error.
    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Replaces the session with a fresh one to the same server (after a transient error). Session
    /// state (SET, advisory locks, prepared statements) does not survive.
    public func reconnect() throws {
        let fresh = try Self.connect(url: url, applicationName: applicationName, notices: notices)
        close()
        handle = fresh
    }

    /// Ends the session; later statements throw. Calling it again does nothing.
    public func close() {
        guard let handle else { return }
        PQfinish(handle)
        self.handle = nil
    }

    /// Runs one statement with `params` bound to $1...$n and returns its rows.
    @discardableResult
    public func query(_ sql: String, _ params: [PostgresEncodable?] = []) throws -> PostgresRows {
        let handle = try openHandle(running: sql)
        let texts = params.map { $0?.postgresText }
        if let position = texts.firstIndex(where: { $0.map(Self.containsNUL) == true }) {
            throw PostgresError(
                sqlState: nil,
                message: "parameter $\(position + 1) contains a NUL character, which PostgreSQL text cannot hold"
                    + Self.context(sql),
                connectionLost: false)
        }
        let result = Self.withCStrings(texts) { values in
            PQexecParams(handle, sql, Int32(values.count), nil, values, nil, nil, 0)
        }
        return try rows(of: result, handle: handle, statement: sql)
    }

    /// Runs one statement with `params` bound to $1...$n and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ params: [PostgresEncodable?] = []) throws -> Int {
        try query(sql, params).affectedRows
    }

    /// Runs several `;`-separated statements without parameters (migrations, not data: values must be
    /// bound with `query`/`execute`).
    public func executeScript(_ sql: String) throws {
        let handle = try openHandle(running: sql)
        _ = try rows(of: PQexec(handle, sql), handle: handle, statement: sql)
    }

    enum TransactionState { case idle, inTransaction, failed, unknown }

    var transactionState: TransactionState {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failed
        default: return .unknown
        }
    }

    // MARK: - libpq plumbing

    private static func connect(url: String, applicationName: String, notices: NoticeLogger) throws -> OpaquePointer {
        // Entries before "dbname" are defaults the URL may override; entries after it always apply.
        // Without a connect_timeout libpq waits for the operating system's TCP timeout (minutes).
        let settings: [(String, String)] = [
            ("connect_timeout", "10"),
            ("fallback_application_name", applicationName),
            ("dbname", url),
            ("client_encoding", "UTF8"),  // every String crossing the wire is UTF-8
        ]
        let handle = withCStrings(settings.map { $0.0 } + [nil]) { keys in
            withCStrings(settings.map { $0.1 } + [nil]) { values in PQconnectdbParams(keys, values, 1) }
        }
        guard let handle else {
            throw PostgresError(sqlState: nil, message: "libpq could not allocate a connection", connectionLost: true)
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            // The server's SQLSTATE for a refused login is not exposed by libpq: every failed attempt
            // counts as transient, and the message says why (refused, timeout, authentication...).
            let reason = cleanMessage(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(sqlState: nil, message: "could not connect: \(reason)", connectionLost: true)
        }
        PQsetNoticeReceiver(handle, noticeReceiver, Unmanaged.passUnretained(notices).toOpaque())
        // Date decoding reads ISO output; the server's default DateStyle may be something else.
        if let dateStyle = PQparameterStatus(handle, "DateStyle"), !String(cString: dateStyle).hasPrefix("ISO") {
            let result = PQexec(handle, "SET DateStyle TO ISO")
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                let reason = cleanMessage(PQerrorMessage(handle))
                PQfinish(handle)
                throw PostgresError(sqlState: nil, message: "could not set DateStyle: \(reason)", connectionLost: true)
            }
        }
        return handle
    }

    private func openHandle(running sql: String) throws -> OpaquePointer {
        guard let handle else {
            throw PostgresError(sqlState: nil, message: "the connection is closed" + Self.context(sql), connectionLost: false)
        }
        return handle
    }

    /// Copies a result out of libpq (so nothing points into it after PQclear) or turns it into an error.
    private func rows(of result: OpaquePointer?, handle: OpaquePointer, statement: String) throws -> PostgresRows {
        guard let result else {
            throw PostgresError(
                sqlState: nil, message: Self.cleanMessage(PQerrorMessage(handle)) + Self.context(statement),
                connectionLost: PQstatus(handle) == CONNECTION_BAD)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(columns: [], values: [], affectedRows: Self.affectedRows(result) ?? 0)
        case PGRES_TUPLES_OK:
            return Self.copyRows(result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            throw Self.serverError(result, handle: handle, statement: statement)
        default:
            throw PostgresError(
                sqlState: nil,
                message: "unsupported result \(String(cString: PQresStatus(status))) (COPY is not supported)"
                    + Self.context(statement),
                connectionLost: false)
        }
    }

    private static func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result)), columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var values = [String?]()
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(nil)
                } else {
                    let bytes = UnsafeBufferPointer(
                        start: UnsafeRawPointer(PQgetvalue(result, row, column)).assumingMemoryBound(to: UInt8.self),
                        count: Int(PQgetlength(result, row, column)))
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return PostgresRows(columns: columns, values: values, affectedRows: affectedRows(result) ?? rowCount)
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int? {
        Int(String(cString: PQcmdTuples(result)))
    }

    private static func serverError(_ result: OpaquePointer, handle: OpaquePointer, statement: String) -> PostgresError {
        func field(_ field: DiagnosticField) -> String? { field.value(in: result) }
        let sqlState = field(.sqlState)
        var message = field(.primaryMessage) ?? cleanMessage(PQresultErrorMessage(result))
        // Integrity violations (class 23) quote the offending key or row in DETAIL: possibly patient data.
        if let detail = field(.detail), sqlState?.hasPrefix("23") != true {
            message += ". Detail: " + detail
        }
        if let hint = field(.hint) {
            message += ". Hint: " + hint
        }
        return PostgresError(
            sqlState: sqlState, message: message + context(statement), constraint: field(.constraintName),
            connectionLost: PQstatus(handle) == CONNECTION_BAD)
    }

    /// " (while running: INSERT INTO results ...)": the statement's start on one line. Statements carry
    /// no values (those are bind parameters), so this is safe to log.
    private static func context(_ statement: String) -> String {
        let words = statement.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        let limit = 100
        let shown = words.count > limit ? words.prefix(limit) + "..." : words
        return " (while running: \(shown))"
    }

    private static func cleanMessage(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown libpq error" }
        return String(cString: message).split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Lays `strings` out NUL-terminated in one buffer and passes pointers into it; nil stays nil
    /// (a NULL parameter, or the end of a libpq key list).
    private static func containsNUL(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { $0.isEmpty ? false : memchr($0.baseAddress!, 0, $0.count) != nil }
    }

    private static func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        var buffer = [CChar]()
        buffer.reserveCapacity(strings.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 1 })
        var offsets: [Int?] = []
        offsets.reserveCapacity(strings.count)
        for string in strings {
            guard let string else {
                offsets.append(nil)
                continue
            }
            offsets.append(buffer.count)
            // Batch statements bind megabytes of text per call: copy each string's bytes in one go.
            var utf8 = string
            utf8.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { buffer.append(contentsOf: $0) }
            }
            buffer.append(0)
        }
        return buffer.withUnsafeBufferPointer { base in
            body(offsets.map { offset in offset.map { base.baseAddress! + $0 } })
        }
    }
}

/// Routes server notices and warnings (NOTICE, WARNING, ...) to the connection's logger. libpq holds an
/// unretained pointer to it; the connection keeps it alive for as long as the PGconn exists.
private final class NoticeLogger {
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func log(_ result: OpaquePointer) {
        func field(_ field: DiagnosticField) -> String? { field.value(in: result) }
        let level: Logger.Level
        switch field(.severity) {
        case "WARNING": level = .warning
        case "NOTICE", "INFO": level = .info
        default: level = .debug
        }
        var metadata: Logger.Metadata = [:]
        if let sqlState = field(.sqlState) { metadata["sqlstate"] = .string(sqlState) }
        logger.log(level: level, "\(field(.primaryMessage) ?? "server notice")", metadata: metadata)
    }
}

private let noticeReceiver: PQnoticeReceiver = { context, result in
    guard let context, let result else { return }
    Unmanaged<NoticeLogger>.fromOpaque(context).takeUnretainedValue().log(result)
}

/// libpq's PG_DIAG_* codes: character-literal macros, which Swift does not import.
private enum DiagnosticField: Character {
    case severity = "V"  // not localized
    case sqlState = "C"
    case primaryMessage = "M"
    case detail = "D"
    case hint = "H"
    case constraintName = "n"

    func value(in result: OpaquePointer) -> String? {
        PQresultErrorField(result, Int32(rawValue.asciiValue!)).map { String(cString: $0) }
    }
}

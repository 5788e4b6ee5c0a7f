/// An error reported by the server or by libpq, with enough context to act on it.
///
/// `message` never contains bind parameter values, and leaves out the server's DETAIL for integrity
/// violations (class 23): PostgreSQL puts the offending key or the whole failing row there, which may
/// hold patient data, and these messages end up in logs.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The five-character SQLSTATE (PG_DIAG_SQLSTATE), e.g. "23505"; nil when the server never answered.
    public let sqlState: String?
    /// Primary message, detail and hint, followed by what was being done ("while running: INSERT ...").
    public let message: String
    /// The violated constraint's name for integrity errors (PG_DIAG_CONSTRAINT_NAME), e.g. "results_pkey".
    public let constraint: String?
    /// Set when libpq reports the connection as broken, whether or not the server sent a SQLSTATE.
    let connectionLost: Bool

    init(sqlState: String?, message: String, constraint: String? = nil, connectionLost: Bool) {
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
        self.connectionLost = connectionLost
    }

    /// Whether retrying the same work later (after `reconnect()` when the connection is gone) can succeed.
    public var isTransient: Bool {
        if connectionLost { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || Self.transientStates.contains(sqlState)
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }

    public var description: String {
        if let sqlState { return "PostgreSQL error \(sqlState): \(message)" }
        return "PostgreSQL error: \(message)"
    }

    private static let transientStates: Set<String> = [
        "57P01", "57P02", "57P03",  // admin shutdown, crash shutdown, cannot connect now
        "53300",                    // too many connections
        "40001", "40P01",           // serialization failure, deadlock: the whole transaction may be retried
    ]
}

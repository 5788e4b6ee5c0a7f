/// Transaction isolation levels (PostgreSQL has no READ UNCOMMITTED of its own).
public enum PostgresIsolation: Sendable {
    case readCommitted, repeatableRead, serializable

    var sql: String {
        switch self {
        case .readCommitted: return "READ COMMITTED"
        case .repeatableRead: return "REPEATABLE READ"
        case .serializable: return "SERIALIZABLE"
        }
    }
}

extension PostgresConnection {
    /// Runs `body` between BEGIN and COMMIT; any error thrown by `body` rolls the transaction back and is
    /// rethrown unchanged. Serialization failures and deadlocks surface as transient errors: the caller
    /// retries the whole call. When the connection is lost during COMMIT itself the outcome is unknown,
    /// as with any database: writes meant to happen once need a unique key. Transactions do not nest.
    public func transaction<T>(
        isolation: PostgresIsolation = .readCommitted, _ body: (PostgresConnection) throws -> T
    ) throws -> T {
        guard transactionState == .idle || transactionState == .unknown else {
            throw PostgresError(
                sqlState: nil, message: "transaction() called inside a transaction; transactions do not nest",
                connectionLost: false)
        }
        try execute("BEGIN ISOLATION LEVEL \(isolation.sql)")
        let value: T
        do {
            value = try body(self)
        } catch {
            rollBack()
            throw error
        }
        // A statement that failed inside `body` (its error caught there) aborts the transaction, and the
        // server would answer COMMIT with a silent ROLLBACK: report it instead of pretending success.
        if transactionState == .failed {
            rollBack()
            throw PostgresError(
                sqlState: "25P02",
                message: "a statement inside the transaction failed and its error was caught; nothing was committed",
                connectionLost: false)
        }
        try execute("COMMIT")
        return value
    }

    /// Best effort: on a dead connection ROLLBACK fails too, and the server has already discarded the
    /// transaction, so its error must not replace the one that got us here.
    private func rollBack() {
        _ = try? execute("ROLLBACK")
    }
}

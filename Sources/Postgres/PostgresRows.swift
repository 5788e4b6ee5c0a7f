/// The rows of one statement's result, copied out of libpq's result so they outlive it.
public struct PostgresRows: RandomAccessCollection, Sendable {
    public let columns: [String]
    /// Rows inserted, updated, deleted or returned, as the server's command tag reports them.
    public let affectedRows: Int
    private let storage: Storage

    init(columns: [String], values: [String?], affectedRows: Int) {
        self.columns = columns
        self.affectedRows = affectedRows
        self.storage = Storage(columns: columns, values: values)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { columns.isEmpty ? 0 : storage.values.count / columns.count }
    public subscript(position: Int) -> PostgresRow {
        precondition(indices.contains(position), "row \(position) out of range 0..<\(endIndex)")
        return PostgresRow(storage: storage, row: position)
    }

    /// Shared by every row of a result: values row-major, columns looked up by name once per result.
    final class Storage: Sendable {
        let values: [String?]
        let columnCount: Int
        let columnIndex: [String: Int]

        init(columns: [String], values: [String?]) {
            self.values = values
            self.columnCount = columns.count
            // With duplicate names (SELECT a.id, b.id) the first column wins, as in most drivers.
            self.columnIndex = Dictionary(columns.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }
}

/// One row; values are PostgreSQL's text output, nil for SQL NULL.
public struct PostgresRow: Sendable {
    let storage: PostgresRows.Storage
    let row: Int

    /// The column's text, nil for NULL or for a column the result does not have (use `decode` to tell
    /// the two apart).
    public subscript(_ column: String) -> String? {
        guard let index = storage.columnIndex[column] else { return nil }
        return storage.values[row * storage.columnCount + index]
    }

    /// The column decoded as `T`; throws on NULL, on an unknown column and on text `T` cannot read.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresDecodingError(type, reason: "is NULL").in(column: column)
        }
        return value
    }

    /// The column decoded as `T`, nil for NULL; throws on an unknown column and on text `T` cannot read.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let index = storage.columnIndex[column] else {
            throw PostgresDecodingError(type, reason: "the result has no such column").in(column: column)
        }
        guard let text = storage.values[row * storage.columnCount + index] else { return nil }
        do {
            return try T(postgresText: text)
        } catch let error as PostgresDecodingError {
            throw error.in(column: column)
        }
    }
}

extension PostgresDecodingError {
    fileprivate func `in`(column: String) -> PostgresDecodingError {
        var located = self
        located.column = column
        return located
    }
}

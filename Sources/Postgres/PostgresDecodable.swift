import Foundation

/// A value built from PostgreSQL's text output for a column.
public protocol PostgresDecodable {
    init(postgresText: String) throws
}

/// A column value that could not be read as the requested type. The value itself is left out: it may
/// hold patient data.
public struct PostgresDecodingError: Error, CustomStringConvertible, Sendable {
    /// The column, once known (set by `PostgresRow.decode`).
    public internal(set) var column: String?
    public let type: String
    public let reason: String

    public init<T>(_ type: T.Type, reason: String) {
        self.column = nil
        self.type = String(describing: type)
        self.reason = reason
    }

    public var description: String {
        let place = column.map { "column \"\($0)\"" } ?? "value"
        return "cannot decode \(place) as \(type): \(reason)"
    }
}

extension String: PostgresDecodable {
    public init(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Int(postgresText) else { throw PostgresDecodingError(Int.self, reason: "not an integer in range") }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Int32(postgresText) else { throw PostgresDecodingError(Int32.self, reason: "not an integer in range") }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Int64(postgresText) else { throw PostgresDecodingError(Int64.self, reason: "not an integer in range") }
        self = value
    }
}

extension Double: PostgresDecodable {
    public init(postgresText: String) throws {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText) else { throw PostgresDecodingError(Double.self, reason: "not a number") }
            self = value
        }
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingError(Bool.self, reason: "expected t or f")
        }
    }
}

extension Date: PostgresDecodable {
    /// PostgreSQL's ISO output of `timestamptz` (any session time zone), `timestamp` (read as UTC) or `date`.
    public init(postgresText: String) throws {
        guard let date = PostgresTimestamp.parse(postgresText) else {
            throw PostgresDecodingError(Date.self, reason: "not an ISO timestamp (DateStyle must be ISO; infinity has no Date)")
        }
        self = date
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw PostgresDecodingError(UUID.self, reason: "not a UUID") }
        self = value
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// `bytea` in hex output form ("\x00ff"), PostgreSQL's default `bytea_output`.
    public init(postgresText: String) throws {
        let utf8 = postgresText.utf8
        guard utf8.starts(with: "\\x".utf8), let bytes = HexEncoding.decode(utf8.dropFirst(2)) else {
            throw PostgresDecodingError([UInt8].self, reason: "not bytea hex output (bytea_output must be hex)")
        }
        self = bytes
    }
}

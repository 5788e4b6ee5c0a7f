import Foundation
import Postgres

/// Array values bound as one text parameter (`$1::text[]`, `$1::int[]`, `$1::bytea[]`): PostgreSQL's
/// array literal syntax, with every element quoted so no element can be read as syntax. Multi-row
/// statements (`unnest($1::text[], $2::int[], ...)`) use them to send a whole batch in one round trip
/// while every value stays a bind parameter.
public enum PostgresArrayLiteral {
    public static func text(_ values: [String]) -> String {
        Self.values(values)
    }

    public static func integers<T: BinaryInteger>(_ values: [T]) -> String {
        "{" + values.map { String($0) }.joined(separator: ",") + "}"
    }

    /// Each element in the text form its own bind parameter would take; nil (SQL NULL) is the
    /// unquoted NULL.
    public static func values<T: PostgresEncodable>(_ values: [T]) -> String {
        var literal: [UInt8] = [UInt8(ascii: "{")]
        for (index, value) in values.enumerated() {
            if index > 0 { literal.append(UInt8(ascii: ",")) }
            guard let text = value.postgresText else {
                literal.append(contentsOf: "NULL".utf8)
                continue
            }
            literal.reserveCapacity(literal.count + text.utf8.count + 2)
            literal.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { literal.append(UInt8(ascii: "\\")) }
                literal.append(byte)
            }
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
    }
}

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
            literal.append(UInt8(ascii: "\""))
            appendEscaped(text, to: &literal)
            literal.append(UInt8(ascii: "\""))
        }
        literal.append(UInt8(ascii: "}"))
        return String(decoding: literal, as: UTF8.self)
    }

    /// Copies runs without a quote or backslash in one append each: a batch's literals hold
    /// megabytes of report text and JSON, and a per-byte append was the largest client cost of a commit.
    private static func appendEscaped(_ text: String, to literal: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") {
                literal.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                literal.append(UInt8(ascii: "\\"))
                runStart = index
            }
            literal.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
    }
}

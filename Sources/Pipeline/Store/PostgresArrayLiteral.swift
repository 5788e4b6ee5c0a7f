import Foundation

/// Array values bound as one text parameter (`$1::text[]`, `$1::int[]`): PostgreSQL's array literal
/// syntax, with every element quoted so no element can be read as syntax.
public enum PostgresArrayLiteral {
    public static func text(_ values: [String]) -> String {
        "{" + values.map { value in
            var quoted = "\""
            for ch in value.unicodeScalars {
                if ch == "\"" || ch == "\\" { quoted.unicodeScalars.append("\\") }
                quoted.unicodeScalars.append(ch)
            }
            return quoted + "\""
        }.joined(separator: ",") + "}"
    }

    public static func integers<T: BinaryInteger>(_ values: [T]) -> String {
        "{" + values.map { String($0) }.joined(separator: ",") + "}"
    }
}

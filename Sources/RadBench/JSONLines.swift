import Foundation

/// JSON Lines as RadBench's files use them: blank lines are skipped, every other line holds one JSON
/// value, and lines are numbered from 1 for error messages.
enum JSONLines {
    /// Each non-blank line's number and its value, nil when the line is not valid JSON.
    static func values(in data: Data) -> [(line: Int, value: Any?)] {
        var values: [(line: Int, value: Any?)] = []
        for (offset, bytes) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
        where bytes.contains(where: { !isWhitespace($0) }) {
            values.append((offset + 1, try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])))
        }
        return values
    }

    /// Why a field of a line's object cannot be used; each file format turns it into its own error.
    enum FieldProblem: Error {
        case missing(key: String)
        case wrongType(key: String, expected: String)
    }

    static func string(_ object: [String: Any], _ key: String) -> Result<String, FieldProblem> {
        guard let value = object[key] else { return .failure(.missing(key: key)) }
        guard let text = value as? String else { return .failure(.wrongType(key: key, expected: "a string")) }
        return .success(text)
    }

    static func strings(_ object: [String: Any], _ key: String) -> Result<[String], FieldProblem> {
        guard let value = object[key] else { return .failure(.missing(key: key)) }
        guard let list = value as? [Any], let texts = list as? [String], texts.count == list.count else {
            return .failure(.wrongType(key: key, expected: "an array of strings"))
        }
        return .success(texts)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

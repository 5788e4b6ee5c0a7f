import Foundation

/// JSON text for audit details and FHIR resources: object keys sorted, slashes unescaped, non-ASCII
/// written as UTF-8. Written directly rather than through JSONSerialization, which on Linux bridges
/// every dictionary and array to Foundation objects and was the largest client-side cost of a batch
/// commit. The text only has to be valid JSON: PostgreSQL stores it as jsonb, and the audit chain
/// hashes PostgreSQL's own rendering of that.
enum CanonicalJSON {
    static func text(_ object: [String: Any]) -> String {
        var out = ""
        write(object, into: &out)
        return out
    }

    private static func write(_ value: Any, into out: inout String) {
        switch value {
        case let text as String: writeString(text, into: &out)
        case let flag as Bool: out += flag ? "true" : "false"
        case let number as Int: out += String(number)
        case let number as Int32: out += String(number)
        case let number as Int64: out += String(number)
        case let number as Double:
            precondition(number.isFinite, "JSON has no spelling for \(number)")
            out += number.description
        case let object as [String: Any]:
            out += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                write(object[key]!, into: &out)
            }
            out += "}"
        case let array as [Any]:
            out += "["
            for (index, element) in array.enumerated() {
                if index > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case is NSNull:
            out += "null"
        default:
            preconditionFailure("not a JSON value: \(type(of: value))")
        }
    }

    private static func writeString(_ text: String, into out: inout String) {
        out += "\""
        var pending = text.unicodeScalars.startIndex
        let scalars = text.unicodeScalars
        for index in scalars.indices {
            let scalar = scalars[index]
            let escaped: String?
            switch scalar {
            case "\"": escaped = "\\\""
            case "\\": escaped = "\\\\"
            case "\n": escaped = "\\n"
            case "\r": escaped = "\\r"
            case "\t": escaped = "\\t"
            default:
                escaped = scalar.value < 0x20 ? controlEscape(scalar.value) : nil
            }
            if let escaped {
                out.unicodeScalars.append(contentsOf: scalars[pending..<index])
                out += escaped
                pending = scalars.index(after: index)
            }
        }
        out.unicodeScalars.append(contentsOf: scalars[pending...])
        out += "\""
    }

    private static func controlEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}

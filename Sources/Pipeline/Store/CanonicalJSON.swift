import Foundation

/// JSON text for audit details and FHIR resources: object keys sorted, slashes unescaped, non-ASCII
/// written as UTF-8. Written directly rather than through JSONSerialization, which on Linux bridges
/// every dictionary and array to Foundation objects and was the largest client-side cost of a batch
/// commit. The text only has to be valid JSON: PostgreSQL stores it as jsonb, and the audit chain
/// hashes PostgreSQL's own rendering of that.
///
/// Output is assembled as UTF-8 bytes: appending to a String scalar by scalar cost more than the rest
/// of a batch's client-side work together.
enum CanonicalJSON {
    static func text(_ object: [String: Any]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(object, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func write(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let text as String: writeString(text, into: &out)
        case let flag as Bool: out.append(contentsOf: (flag ? "true" : "false").utf8)
        case let number as Int: out.append(contentsOf: String(number).utf8)
        case let number as Int32: out.append(contentsOf: String(number).utf8)
        case let number as Int64: out.append(contentsOf: String(number).utf8)
        case let number as Double:
            precondition(number.isFinite, "JSON has no spelling for \(number)")
            out.append(contentsOf: number.description.utf8)
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            // Sorting the entries, not the keys, saves looking every key up again.
            for (index, entry) in object.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(entry.key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(entry.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, element) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case is NSNull:
            out.append(contentsOf: "null".utf8)
        default:
            preconditionFailure("not a JSON value: \(type(of: value))")
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Multi-byte UTF-8 sequences never contain bytes below 0x80, so escaping byte by byte is exact.
    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

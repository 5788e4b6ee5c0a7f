import Foundation

/// A CSV file (RFC 4180: comma separated, double-quoted fields may hold commas, quotes as "" and line
/// breaks) read as a header and rows of named fields, for the public datasets that ship CSV.
public struct CSVTable {
    public let header: [String]
    /// Each row with the 1-based line it starts on.
    public let rows: [(line: Int, fields: [String])]

    public init(text: String, file: String) throws {
        var records: [(line: Int, fields: [String])] = []
        var field = "", fields: [String] = [], quoted = false, afterQuote = false
        var line = 1, recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending = scalars.next()
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            field = ""; fields = []
        }
        while let scalar = pending {
            pending = scalars.next()
            if quoted {
                if scalar == "\"" {
                    if pending == "\"" { field.unicodeScalars.append("\""); pending = scalars.next() } else { quoted = false; afterQuote = true }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty && !afterQuote: quoted = true
            case ",": fields.append(field); field = ""; afterQuote = false
            case "\r" where pending == "\n": continue
            case "\n", "\r":
                endRecord(); afterQuote = false
                line += 1; recordLine = line
            default:
                if afterQuote { throw CSVError(file: file, line: line, message: "text after a closing quote") }
                field.unicodeScalars.append(scalar)
            }
        }
        if quoted { throw CSVError(file: file, line: recordLine, message: "quoted field not closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        guard let first = records.first else { throw CSVError(file: file, line: nil, message: "no header") }
        header = first.fields
        for record in records.dropFirst() where record.fields.count != header.count {
            throw CSVError(file: file, line: record.line, message: "\(record.fields.count) fields, header has \(header.count)")
        }
        rows = Array(records.dropFirst())
    }

    public static func load(path: String) throws -> CSVTable {
        do {
            return try CSVTable(text: try String(contentsOfFile: path, encoding: .utf8), file: path)
        } catch let error as CSVError {
            throw error
        } catch {
            throw CSVError(file: path, line: nil, message: "cannot read: \(error.localizedDescription)")
        }
    }

    /// The index of `name` in the header, or an error naming the file and the columns it has.
    public func column(_ name: String, file: String) throws -> Int {
        guard let index = header.firstIndex(of: name) else {
            throw CSVError(file: file, line: 1, message: "no column \"\(name)\" (columns: \(header.joined(separator: ", ")))")
        }
        return index
    }
}

public struct CSVError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let file: String
    public let line: Int?
    public let message: String

    public var description: String { (line.map { "\(file):\($0)" } ?? file) + ": " + message }
    public var errorDescription: String? { description }
}

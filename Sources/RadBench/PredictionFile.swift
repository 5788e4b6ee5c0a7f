import Foundation

/// One scored row of a predictions file: `{"id": ..., "prediction": "...", "reference": "..."}`.
public struct PredictionRow: Equatable, Sendable {
    public let id: String
    public let prediction: String
    public let reference: String
    /// 1-based line in the file, for messages about this row.
    public let line: Int

    public init(id: String, prediction: String, reference: String, line: Int) {
        self.id = id
        self.prediction = prediction
        self.reference = reference
        self.line = line
    }
}

/// A predictions file that cannot be scored; the message names the file and, where there is one, the line.
public struct PredictionFileError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public enum Problem: Equatable, Sendable {
        case unreadable(String)
        case invalidJSON
        case notAnObject
        case missingKey(String)
        case wrongType(key: String, expected: String)
        case duplicateID(String, firstLine: Int)
        case noRows
    }

    public let file: String
    public let line: Int?
    public let problem: Problem

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        switch problem {
        case .unreadable(let reason): return "\(location): cannot read predictions: \(reason)"
        case .invalidJSON: return "\(location): not a JSON object on one line"
        case .notAnObject: return "\(location): expected a JSON object with id, prediction and reference"
        case .missingKey(let key): return "\(location): missing \"\(key)\""
        case .wrongType(let key, let expected): return "\(location): \"\(key)\" must be \(expected)"
        case .duplicateID(let id, let firstLine): return "\(location): id \"\(id)\" already used on line \(firstLine)"
        case .noRows: return "\(location): no prediction rows"
        }
    }

    public var errorDescription: String? { description }
}

/// Reads predictions files (JSON Lines). Blank lines are skipped; every other line must be one object with a
/// string or integer `id` unique in the file and string `prediction` and `reference`; other keys are ignored.
public enum PredictionFile {
    public static func load(path: String) throws -> [PredictionRow] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PredictionFileError(file: path, line: nil, problem: .unreadable(error.localizedDescription))
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> [PredictionRow] {
        var rows: [PredictionRow] = []
        var firstLineOfID: [String: Int] = [:]
        for (line, value) in JSONLines.values(in: data) {
            func fail(_ problem: PredictionFileError.Problem) -> PredictionFileError {
                PredictionFileError(file: file, line: line, problem: problem)
            }
            func field(_ result: Result<String, JSONLines.FieldProblem>) throws -> String {
                switch result {
                case .success(let value): return value
                case .failure(.missing(let key)): throw fail(.missingKey(key))
                case .failure(.wrongType(let key, let expected)): throw fail(.wrongType(key: key, expected: expected))
                }
            }
            guard let parsed = value else { throw fail(.invalidJSON) }
            guard let object = parsed as? [String: Any] else { throw fail(.notAnObject) }
            let id = try identifier(object["id"], fail: fail)
            if let first = firstLineOfID[id] { throw fail(.duplicateID(id, firstLine: first)) }
            firstLineOfID[id] = line
            rows.append(PredictionRow(id: id, prediction: try field(JSONLines.string(object, "prediction")),
                                      reference: try field(JSONLines.string(object, "reference")), line: line))
        }
        guard !rows.isEmpty else { throw PredictionFileError(file: file, line: nil, problem: .noRows) }
        return rows
    }

    private static func identifier(_ value: Any?, fail: (PredictionFileError.Problem) -> PredictionFileError) throws -> String {
        guard let value else { throw fail(.missingKey("id")) }
        if let string = value as? String { return string }
        if let number = value as? NSNumber, !isBoolean(number), let integer = Int(exactly: number.doubleValue) {
            return String(integer)
        }
        throw fail(.wrongType(key: "id", expected: "a string or an integer"))
    }

    /// JSON true/false arrive as NSNumber too; an id of `true` is a mistake, not the id "1".
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c" && (number == NSNumber(value: true) || number == NSNumber(value: false))
    }
}

import Foundation

/// The public datasets' own file formats, converted to RadBench samples. Users bring the data; nothing of
/// it is bundled. Image paths are resolved against `images`, the dataset's image folder.
///
/// - `vqa-rad`: VQA-RAD's JSON array (`qid`, `image_name`, `question`, `answer`, `answer_type`).
/// - `slake`: SLAKE's train/validate/test JSON array (`qid`, `img_name`, `question`, `answer`, `q_lang`);
///   English questions only, since the metrics tokenise on white space.
/// - `pmc-vqa`: PMC-VQA's CSV (`Figure_path`, `Question`, `Answer`, `Choice A`..`Choice D`); the choices
///   are appended to the question, as the PMC-VQA paper prompts, and kept as the sample's choices.
/// - `report-csv`: MIMIC-CXR style report tables: one study a row, columns `study_id`, `image_path`
///   (several images separated by `;`) and `report`.
public enum DatasetFormat: String, CaseIterable, Sendable {
    case vqaRAD = "vqa-rad", slake, pmcVQA = "pmc-vqa", reportCSV = "report-csv"

    public static let reportQuestion = "Write the radiology report for this study."

    public func samples(file: String, images: URL) throws -> [BenchSample] {
        switch self {
        case .vqaRAD: return try Self.jsonRows(file).map { line, row in
            let id = try Self.text(row, "qid", file: file, line: line)
            return BenchSample(id: "vqa-rad/\(id)", task: .vqa,
                               images: [images.appendingPathComponent(try Self.text(row, "image_name", file: file, line: line))],
                               question: try Self.text(row, "question", file: file, line: line),
                               reference: try Self.text(row, "answer", file: file, line: line), line: line)
        }
        case .slake: return try Self.jsonRows(file).compactMap { line, row in
            guard (row["q_lang"] as? String ?? "en") == "en" else { return nil }
            let id = try Self.text(row, "qid", file: file, line: line)
            return BenchSample(id: "slake/\(id)", task: .vqa,
                               images: [images.appendingPathComponent(try Self.text(row, "img_name", file: file, line: line))],
                               question: try Self.text(row, "question", file: file, line: line),
                               reference: try Self.text(row, "answer", file: file, line: line), line: line)
        }
        case .pmcVQA:
            let table = try CSVTable.load(path: file)
            let figure = try table.column("Figure_path", file: file), question = try table.column("Question", file: file)
            let answer = try table.column("Answer", file: file)
            let choiceColumns = try ["A", "B", "C", "D"].map { try table.column("Choice \($0)", file: file) }
            return table.rows.enumerated().map { index, row in
                let choices = choiceColumns.map { Self.strippingChoiceLetter(row.fields[$0]) }
                let listed = zip(["A", "B", "C", "D"], choices).map { "\($0): \($1)" }.joined(separator: " ")
                return BenchSample(id: "pmc-vqa/\(index + 1)", task: .vqa,
                                   images: [images.appendingPathComponent(row.fields[figure])],
                                   question: row.fields[question] + " Choices: " + listed,
                                   reference: Self.strippingChoiceLetter(row.fields[answer]), choices: choices, line: row.line)
            }
        case .reportCSV:
            let table = try CSVTable.load(path: file)
            let study = try table.column("study_id", file: file), paths = try table.column("image_path", file: file)
            let report = try table.column("report", file: file)
            return table.rows.map { row in
                BenchSample(id: "report/\(row.fields[study])", task: .report,
                            images: row.fields[paths].split(separator: ";").map {
                                images.appendingPathComponent($0.trimmingCharacters(in: .whitespaces))
                            },
                            question: Self.reportQuestion, reference: row.fields[report], line: row.line)
            }
        }
    }

    /// "A:CT scan" and " A: CT scan" to "CT scan"; PMC-VQA spells its choices and answers both ways.
    static func strippingChoiceLetter(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count >= 2, let first = trimmed.first, "ABCD".contains(first),
              trimmed[trimmed.index(after: trimmed.startIndex)] == ":" else { return trimmed }
        return trimmed.dropFirst(2).trimmingCharacters(in: .whitespaces)
    }

    /// A JSON array of objects, each with its index as "line" (the datasets ship pretty-printed arrays, so
    /// the element's 1-based position is the useful locator).
    private static func jsonRows(_ file: String) throws -> [(Int, [String: Any])] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw DatasetImportError(file: file, element: nil, message: "not readable JSON: \(error.localizedDescription)")
        }
        guard let array = parsed as? [Any] else { throw DatasetImportError(file: file, element: nil, message: "expected a JSON array") }
        return try array.enumerated().map { index, element in
            guard let object = element as? [String: Any] else {
                throw DatasetImportError(file: file, element: index + 1, message: "expected an object")
            }
            return (index + 1, object)
        }
    }

    /// A string field; numbers (VQA-RAD has numeric answers and ids) are written as JSON writes them.
    private static func text(_ row: [String: Any], _ key: String, file: String, line: Int) throws -> String {
        if let string = row[key] as? String { return string }
        if let number = row[key] as? NSNumber { return number.stringValue }
        throw DatasetImportError(file: file, element: line, message: "missing or non-text \"\(key)\"")
    }
}

public struct DatasetImportError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let file: String
    /// 1-based element of the JSON array.
    public let element: Int?
    public let message: String

    public var description: String { file + (element.map { " element \($0)" } ?? "") + ": " + message }
    public var errorDescription: String? { description }
}

import Foundation

/// One benchmark sample: images (resolved against the manifest's folder), a question, the reference
/// answer, and for closed tasks the labels an answer is chosen from.
public struct BenchSample: Equatable, Sendable {
    public let id: String
    public let task: BenchTask
    public let images: [URL]
    public let question: String
    public let reference: String
    /// The closed set a modality or diagnosis answer is drawn from; empty for open tasks.
    public let choices: [String]
    /// 1-based line in the manifest, for messages about this sample.
    public let line: Int

    public init(id: String, task: BenchTask, images: [URL], question: String, reference: String,
                choices: [String] = [], line: Int) {
        self.id = id
        self.task = task
        self.images = images
        self.question = question
        self.reference = reference
        self.choices = choices
        self.line = line
    }
}

/// A manifest that cannot be used; the message names the file and, where there is one, the line.
public struct BenchManifestError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public enum Problem: Equatable, Sendable {
        case unreadable(String)
        case invalidJSON
        case missingKey(String)
        case wrongType(key: String, expected: String)
        case unknownTask(String)
        case duplicateID(String, firstLine: Int)
        case referenceNotAChoice(String)
        case noSamples
    }

    public let file: String
    public let line: Int?
    public let problem: Problem

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        switch problem {
        case .unreadable(let reason): return "\(location): cannot read benchmark manifest: \(reason)"
        case .invalidJSON: return "\(location): not a JSON object on one line"
        case .missingKey(let key): return "\(location): missing \"\(key)\""
        case .wrongType(let key, let expected): return "\(location): \"\(key)\" must be \(expected)"
        case .unknownTask(let task):
            return "\(location): unknown task \"\(task)\" (expected one of \(BenchTask.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .duplicateID(let id, let firstLine): return "\(location): id \"\(id)\" already used on line \(firstLine)"
        case .referenceNotAChoice(let answer): return "\(location): answer \"\(answer)\" is not one of \"choices\""
        case .noSamples: return "\(location): no samples"
        }
    }

    public var errorDescription: String? { description }
}

/// Reads RadBench manifests (JSON Lines), one sample an object:
///
///     {"id": "ct-head-1", "task": "modality", "images": ["dicom/CT_small.dcm"],
///      "question": "Which modality is this scan?", "answer": "CT", "choices": ["CT", "MR", "X-ray"]}
///
/// `images` are paths relative to the manifest's folder (absolute paths are kept), `choices` is optional.
/// Blank lines are skipped; other keys are ignored so that builders may record provenance.
public enum BenchManifest {
    public static func load(path: String) throws -> [BenchSample] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BenchManifestError(file: path, line: nil, problem: .unreadable(error.localizedDescription))
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try parse(data, file: path, imagesRelativeTo: folder)
    }

    public static func parse(_ data: Data, file: String, imagesRelativeTo folder: URL) throws -> [BenchSample] {
        var samples: [BenchSample] = []
        var firstLineOfID: [String: Int] = [:]
        for (line, value) in JSONLines.values(in: data) {
            func fail(_ problem: BenchManifestError.Problem) -> BenchManifestError {
                BenchManifestError(file: file, line: line, problem: problem)
            }
            func field<T>(_ result: Result<T, JSONLines.FieldProblem>) throws -> T {
                switch result {
                case .success(let value): return value
                case .failure(.missing(let key)): throw fail(.missingKey(key))
                case .failure(.wrongType(let key, let expected)): throw fail(.wrongType(key: key, expected: expected))
                }
            }
            guard let object = value as? [String: Any] else { throw fail(.invalidJSON) }
            let id = try field(JSONLines.string(object, "id"))
            if let first = firstLineOfID[id] { throw fail(.duplicateID(id, firstLine: first)) }
            firstLineOfID[id] = line
            let taskName = try field(JSONLines.string(object, "task"))
            guard let task = BenchTask(rawValue: taskName) else { throw fail(.unknownTask(taskName)) }
            let images = try field(JSONLines.strings(object, "images")).map { path -> URL in
                path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            }
            let reference = try field(JSONLines.string(object, "answer"))
            let choices = object["choices"] == nil ? [] : try field(JSONLines.strings(object, "choices"))
            if !choices.isEmpty, !choices.map(ClassificationMetrics.normalizeLabel).contains(ClassificationMetrics.normalizeLabel(reference)) {
                throw fail(.referenceNotAChoice(reference))
            }
            samples.append(BenchSample(id: id, task: task, images: images, question: try field(JSONLines.string(object, "question")),
                                       reference: reference, choices: choices, line: line))
        }
        guard !samples.isEmpty else { throw BenchManifestError(file: file, line: nil, problem: .noSamples) }
        return samples
    }
}

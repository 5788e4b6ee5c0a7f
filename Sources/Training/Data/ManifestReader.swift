import Foundation

/// Reads JSONL training manifests: one sample per line, blank lines allowed.
public enum ManifestReader {
    private struct Line: Decodable {
        struct Image: Decodable {
            var path: String
            var position: Int?
            var placement: ManifestSample.Placement?

            enum CodingKeys: String, CodingKey {
                case path, position
                case placement = "in"
            }
        }

        var images: [Image]?
        var question: String
        var answer: String
    }

    public static func read(_ url: URL) throws -> [ManifestSample] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingDataError.unreadableManifest(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TrainingDataError.unreadableManifest(path: url.path, reason: "not UTF-8")
        }
        let folder = url.deletingLastPathComponent()
        var samples: [ManifestSample] = []
        // Splitting on "\n" only (not every Unicode line break) keeps line numbers equal to what editors show.
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineText = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard !lineText.allSatisfy(\.isWhitespace) else { continue }
            samples.append(try parse(Data(lineText.utf8), folder: folder, path: url.path, line: offset + 1))
        }
        guard !samples.isEmpty else { throw TrainingDataError.emptyManifest(path: url.path) }
        return samples
    }

    static func parse(_ data: Data, folder: URL, path: String, line: Int) throws -> ManifestSample {
        let decoded: Line
        do { decoded = try JSONDecoder().decode(Line.self, from: data) } catch {
            throw TrainingDataError.invalidLine(path: path, line: line, reason: describe(error))
        }
        var images: [ManifestSample.Image] = []
        for (index, image) in (decoded.images ?? []).enumerated() {
            guard !image.path.isEmpty else {
                throw TrainingDataError.invalidLine(path: path, line: line, reason: "image \(index) has an empty path")
            }
            let position = image.position ?? 0
            guard position >= 0 else {
                throw TrainingDataError.invalidLine(
                    path: path, line: line, reason: "image \(index) has negative position \(position)")
            }
            let url = image.path.hasPrefix("/")
                ? URL(fileURLWithPath: image.path) : folder.appendingPathComponent(image.path)
            images.append(ManifestSample.Image(
                url: url.standardizedFileURL, position: position, placement: image.placement ?? .question))
        }
        return ManifestSample(
            images: images, question: decoded.question, answer: decoded.answer, manifestPath: path, line: line)
    }

    /// JSONDecoder's errors name coding paths in a debug format; this names the field in plain words.
    private static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?:
            return "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "field \"\(fieldPath(context.codingPath))\": \(context.debugDescription)"
        case .dataCorrupted(let context)?:
            let field = fieldPath(context.codingPath)
            return field.isEmpty ? "not valid JSON" : "field \"\(field)\": \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    /// `images.0.in` rather than `images.Index 0.in`.
    private static func fieldPath(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

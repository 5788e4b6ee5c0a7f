import Foundation

extension BenchManifest {
    /// Manifest lines for `samples`, in order: image paths under `folder` (the manifest's own folder)
    /// are written relative to it, other paths absolute, so that `load` reads back the same samples.
    public static func encode(_ samples: [BenchSample], relativeTo folder: URL) throws -> Data {
        let base = folder.standardizedFileURL.path.hasSuffix("/") ? folder.standardizedFileURL.path : folder.standardizedFileURL.path + "/"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for sample in samples {
            let images = sample.images.map { url -> String in
                let path = url.standardizedFileURL.path
                return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
            }
            data.append(try encoder.encode(Line(id: sample.id, task: sample.task.rawValue, images: images, question: sample.question,
                                                answer: sample.reference, choices: sample.choices.isEmpty ? nil : sample.choices)))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }

    private struct Line: Encodable {
        let id: String
        let task: String
        let images: [String]
        let question: String
        let answer: String
        let choices: [String]?
    }
}

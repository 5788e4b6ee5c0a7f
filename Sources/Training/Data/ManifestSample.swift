import Foundation

/// One line of a training manifest (DESIGN section 6): images with the character position where their
/// markup goes, a question and an answer.
public struct ManifestSample: Equatable, Sendable {
    public enum Placement: String, Codable, Sendable {
        case question
        case answer
    }

    public struct Image: Equatable, Sendable {
        /// Absolute location; relative paths in the manifest are resolved against the manifest's folder.
        public var url: URL
        /// Character (Unicode scalar) position in the question or answer, as RadFM's `position` value.
        public var position: Int
        public var placement: Placement

        public init(url: URL, position: Int = 0, placement: Placement = .question) {
            self.url = url
            self.position = position
            self.placement = placement
        }
    }

    public var images: [Image]
    public var question: String
    public var answer: String
    /// Where the sample was read from, so every later error can point at the line.
    public var manifestPath: String
    public var line: Int

    public init(images: [Image], question: String, answer: String, manifestPath: String = "", line: Int = 0) {
        self.images = images
        self.question = question
        self.answer = answer
        self.manifestPath = manifestPath
        self.line = line
    }
}

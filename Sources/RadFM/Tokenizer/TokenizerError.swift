/// A `tokenizer.model` that cannot be used, named by its path.
public struct TokenizerError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let detail: String

    public init(file: String, detail: String) {
        self.file = file
        self.detail = detail
    }

    public var description: String { "\(file): \(detail)" }
}

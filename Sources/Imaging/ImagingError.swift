/// A non-DICOM input (NIfTI, NPY, PNG, JPEG, or an unknown kind of file) that could not be read.
public struct ImageFileError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable { case notFound, unsupportedFormat, corrupt, truncated, limitExceeded, io }

    public let kind: Kind
    public let path: String
    public let message: String

    public init(kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message) [\(kind.rawValue)]" }
}

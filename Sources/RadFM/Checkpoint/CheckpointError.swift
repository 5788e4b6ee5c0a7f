/// A checkpoint that cannot be read, or a tensor in it that does not fit what the caller expects.
///
/// Every error names the file it comes from and, where one is involved, the tensor key, so that a failed load
/// of a 908-key, 53 GB checkpoint points straight at the culprit.
public struct CheckpointError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, mapped or written.
        case io
        /// The bytes do not follow the container's format (truncated, corrupt, inconsistent offsets).
        case malformed
        /// The format is understood but uses something this reader deliberately does not support.
        case unsupported
        /// A key the model needs is not in the checkpoint.
        case missingTensor
        /// A key the model does not know is in the checkpoint.
        case unexpectedTensor
        /// The tensor exists but its shape differs from the one expected.
        case shapeMismatch
    }

    public let kind: Kind
    public let file: String
    public let key: String?
    public let expectedShape: [Int]?
    public let actualShape: [Int]?
    public let detail: String

    public init(
        _ kind: Kind, file: String, key: String? = nil, expectedShape: [Int]? = nil, actualShape: [Int]? = nil,
        detail: String
    ) {
        self.kind = kind
        self.file = file
        self.key = key
        self.expectedShape = expectedShape
        self.actualShape = actualShape
        self.detail = detail
    }

    public static func missingTensor(_ key: String, file: String) -> CheckpointError {
        CheckpointError(.missingTensor, file: file, key: key, detail: "tensor is missing")
    }

    public static func unexpectedTensor(_ key: String, file: String) -> CheckpointError {
        CheckpointError(.unexpectedTensor, file: file, key: key, detail: "tensor is not part of the model")
    }

    public static func shapeMismatch(_ key: String, file: String, expected: [Int], actual: [Int]) -> CheckpointError {
        CheckpointError(
            .shapeMismatch, file: file, key: key, expectedShape: expected, actualShape: actual,
            detail: "shape mismatch")
    }

    public var description: String {
        var text = "\(file)"
        if let key { text += ": tensor '\(key)'" }
        text += ": \(detail)"
        if let expectedShape, let actualShape {
            text += " (expected shape \(expectedShape), found \(actualShape))"
        }
        return text
    }
}

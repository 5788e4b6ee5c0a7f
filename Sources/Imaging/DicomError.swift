import CDicom

/// A DICOM file that could not be read or decoded. Always names the file.
public struct DicomError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case notFound, notDicom, truncated, corrupt, unsupportedTransferSyntax, noPixelData, limitExceeded, io
    }

    public let kind: Kind
    public let path: String
    public let message: String

    public init(kind: Kind, path: String, message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message) [\(kind.rawValue)]" }

    /// Wraps a status from the C layer, whose message starts with "<path>: ".
    init(status: cdicom_status, path: String, cMessage: String) {
        let prefix = path + ": "
        let message = cMessage.hasPrefix(prefix) ? String(cMessage.dropFirst(prefix.count)) : cMessage
        self.init(kind: Kind(status) ?? .io, path: path, message: message.isEmpty ? "DICOM error" : message)
    }
}

extension DicomError.Kind {
    init?(_ status: cdicom_status) {
        switch status {
        case CDICOM_NOT_FOUND: self = .notFound
        case CDICOM_NOT_DICOM: self = .notDicom
        case CDICOM_TRUNCATED: self = .truncated
        case CDICOM_CORRUPT: self = .corrupt
        case CDICOM_UNSUPPORTED_TRANSFER_SYNTAX: self = .unsupportedTransferSyntax
        case CDICOM_NO_PIXEL_DATA: self = .noPixelData
        case CDICOM_LIMIT_EXCEEDED: self = .limitExceeded
        case CDICOM_IO: self = .io
        default: return nil
        }
    }
}

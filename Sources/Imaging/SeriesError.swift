/// A DICOM series whose instances do not form one consistent image.
public struct SeriesError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case mixedSizes, mixedOrientations, duplicatePositions, gap, unorderable, noImages
    }

    public let kind: Kind
    public let seriesInstanceUID: String
    public let message: String

    public init(kind: Kind, seriesInstanceUID: String, message: String) {
        self.kind = kind
        self.seriesInstanceUID = seriesInstanceUID
        self.message = message
    }

    public var description: String { "series \(seriesInstanceUID): \(message) [\(kind.rawValue)]" }
}

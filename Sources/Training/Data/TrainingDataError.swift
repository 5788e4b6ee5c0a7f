/// Problems with training data, each naming the manifest and line (1-based) it came from.
public enum TrainingDataError: Error, CustomStringConvertible, Equatable {
    case unreadableManifest(path: String, reason: String)
    case invalidLine(path: String, line: Int, reason: String)
    case imagePositionOutOfRange(path: String, line: Int, image: Int, position: Int, textLength: Int)
    case tooManyImages(path: String, line: Int, count: Int, limit: Int)
    case emptyManifest(path: String)
    case invalidMixtureWeight(path: String, weight: Double)
    case invalidBatchSize(Int)

    public var description: String {
        switch self {
        case .unreadableManifest(let path, let reason):
            return "cannot read manifest \(path): \(reason)"
        case .invalidLine(let path, let line, let reason):
            return "\(path):\(line): \(reason)"
        case .imagePositionOutOfRange(let path, let line, let image, let position, let length):
            return "\(path):\(line): image \(image) has position \(position), outside its text of \(length) characters"
        case .tooManyImages(let path, let line, let count, let limit):
            return "\(path):\(line): \(count) images, the model takes at most \(limit)"
        case .emptyManifest(let path):
            return "manifest \(path) has no samples"
        case .invalidMixtureWeight(let path, let weight):
            return "manifest \(path) has mixing weight \(weight); weights must be finite and positive"
        case .invalidBatchSize(let size):
            return "batch size \(size) must be positive"
        }
    }
}

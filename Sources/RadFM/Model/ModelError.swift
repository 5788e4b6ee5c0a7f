/// Inputs the model cannot process, with the offending sample and image named.
public enum RadFMModelError: Error, CustomStringConvertible, Equatable {
    case imageShape(image: Int, shape: [Int], reason: String)
    case visualTokenOutOfRange(sample: Int, tokenId: Int32, visualTokens: Int)
    case tokenIdOutOfRange(sample: Int, tokenId: Int32)
    case tooManyImages(sample: Int, count: Int, limit: Int)
    case sequenceTooLong(sample: Int, length: Int, limit: Int)

    public var description: String {
        switch self {
        case .imageShape(let image, let shape, let reason):
            return "image \(image) has shape \(shape): \(reason)"
        case .visualTokenOutOfRange(let sample, let id, let count):
            return "sample \(sample): token \(id) refers to a visual token, but its images give only \(count)"
        case .tokenIdOutOfRange(let sample, let id):
            return "sample \(sample): token id \(id) is outside the vocabulary"
        case .tooManyImages(let sample, let count, let limit):
            return "sample \(sample) has \(count) images; the model takes at most \(limit)"
        case .sequenceTooLong(let sample, let length, let limit):
            return "sample \(sample) needs \(length) positions; the model supports \(limit)"
        }
    }
}

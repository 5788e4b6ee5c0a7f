import Foundation

/// Reads one `.safetensors` file: an 8-byte little-endian header length, a JSON header mapping each key to its
/// dtype, shape and byte range, then the tensors' bytes, contiguous and little-endian. The file is
/// memory-mapped; the header is the only part parsed up front.
public final class SafetensorsReader: CheckpointReader {
    public let keys: [String]
    public var location: String { file.path }

    private let file: MappedFile
    private let tensors: [String: StoredTensor]

    /// The safetensors library refuses headers above 100 MB; a larger length means a corrupt file.
    private static let maximumHeaderLength = 100_000_000

    public init(file url: URL) throws {
        let file = try MappedFile(path: url.path)
        self.file = file
        let lengthBytes = try file.slice(0, 8, what: "safetensors header length")
        let headerLength = Int(truncatingIfNeeded: lengthBytes.littleEndian(UInt64.self, at: 0))
        guard headerLength >= 2, headerLength <= Self.maximumHeaderLength else {
            throw CheckpointError(
                .malformed, file: file.path, detail: "safetensors header length \(headerLength) is implausible")
        }
        let header = try file.slice(8, headerLength, what: "safetensors header")
        let dataStart = 8 + headerLength
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header), options: [])
        } catch {
            throw CheckpointError(.malformed, file: file.path, detail: "safetensors header is not JSON")
        }
        guard let entries = json as? [String: Any] else {
            throw CheckpointError(.malformed, file: file.path, detail: "safetensors header is not a JSON object")
        }

        var tensors: [String: StoredTensor] = [:]
        var ordered: [(key: String, begin: Int, end: Int)] = []
        for (key, value) in entries where key != "__metadata__" {
            let entry = try Self.parseEntry(key: key, value: value, file: file.path)
            guard let byteCount = StoredTensor.checkedByteCount(entry.shape, entry.dtype),
                entry.end - entry.begin == byteCount
            else {
                throw CheckpointError(
                    .malformed, file: file.path, key: key, actualShape: entry.shape,
                    detail: "byte range \(entry.begin)..<\(entry.end) does not hold \(entry.shape) "
                        + "\(entry.dtype.rawValue) elements")
            }
            guard entry.end <= file.count - dataStart else {
                throw CheckpointError(
                    .malformed, file: file.path, key: key,
                    detail: "data at bytes \(dataStart + entry.begin)..<\(dataStart + entry.end) lies beyond the end "
                        + "of the file (\(file.count) bytes); the file is truncated or corrupt")
            }
            let bytes = try file.slice(dataStart + entry.begin, byteCount, what: "tensor '\(key)'")
            tensors[key] = StoredTensor(
                dtype: entry.dtype, shape: entry.shape, strides: StoredTensor.contiguousStrides(entry.shape),
                offset: 0, storage: bytes)
            ordered.append((key, entry.begin, entry.end))
        }
        // JSON objects are unordered; file order is the natural listing order and keeps reads sequential. An
        // empty tensor shares its offset with the next one and sorts first, where it was written.
        keys = ordered.sorted { ($0.begin, $0.end, $0.key) < ($1.begin, $1.end, $1.key) }.map(\.key)
        self.tensors = tensors
    }

    private static func parseEntry(
        key: String, value: Any, file: String
    ) throws -> (dtype: TensorDType, shape: [Int], begin: Int, end: Int) {
        guard let fields = value as? [String: Any], let dtypeName = fields["dtype"] as? String,
            let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
            offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0], shape.allSatisfy({ $0 >= 0 })
        else {
            throw CheckpointError(.malformed, file: file, key: key, detail: "header entry is malformed")
        }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw CheckpointError(.unsupported, file: file, key: key, detail: "element type \(dtypeName)")
        }
        return (dtype, shape, offsets[0], offsets[1])
    }

    public func shape(of key: String) -> [Int]? { tensors[key]?.shape }

    public func read(_ key: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try stored(key).readFloat(into: destination, key: key, file: file.path)
        // The caller now owns a float32 copy; dropping the mapped pages keeps a load from holding the
        // checkpoint twice (weights plus file pages) in its resident memory.
        releasePages(of: key)
    }

    func stored(_ key: String) throws -> StoredTensor {
        guard let tensor = tensors[key] else { throw CheckpointError.missingTensor(key, file: file.path) }
        return tensor
    }

    func releasePages(of key: String) {
        guard let tensor = tensors[key], let start = tensor.storage.baseAddress else { return }
        file.releasePages(start - file.bytes.baseAddress!, tensor.storage.count)
    }
}

import Foundation

/// Collects tensors and writes them as one `.safetensors` file that the Python `safetensors` library and
/// transformers load (`__metadata__` says `format: pt`, the header is space-padded to 8 bytes).
///
/// `add(_:shape:data:)` copies what it is given, so callers may reuse their buffers at once;
/// `add(_:shape:borrowing:)` keeps a pointer instead, so that a model or trainer writing its own live
/// parameters does not hold a second copy of every weight while the file is written.
public struct SafetensorsWriter {
    private enum Bytes {
        case owned([UInt8])
        case borrowed(UnsafeRawBufferPointer)

        var count: Int {
            switch self {
            case .owned(let bytes): bytes.count
            case .borrowed(let bytes): bytes.count
            }
        }
    }

    private struct Entry {
        let key: String
        let dtype: TensorDType
        let shape: [Int]
        let bytes: Bytes
    }

    private var entries: [Entry] = []
    private var seenKeys: Set<String> = []
    /// `add` cannot throw (its callers hold well-formed data); a misuse is reported by `write` instead.
    private var misuse: String?

    public init() {}

    /// Bytes of tensor data added so far.
    public var byteCount: Int { entries.reduce(0) { $0 + $1.bytes.count } }

    public mutating func add(_ key: String, shape: [Int], data: UnsafeBufferPointer<Float>) {
        let bytes = [UInt8](UnsafeRawBufferPointer(data))
        add(key, dtype: .float32, shape: shape, bytes: .owned(bytes), elementCount: data.count)
    }

    /// Adds `data` without copying it: it must stay allocated and unchanged until `write` returns.
    public mutating func add(_ key: String, shape: [Int], borrowing data: UnsafeBufferPointer<Float>) {
        add(key, dtype: .float32, shape: shape, bytes: .borrowed(UnsafeRawBufferPointer(data)), elementCount: data.count)
    }

    /// Adds raw little-endian elements of any dtype; conversion uses it to keep each tensor's own type.
    mutating func add(_ key: String, dtype: TensorDType, shape: [Int], bytes: [UInt8]) {
        add(key, dtype: dtype, shape: shape, bytes: .owned(bytes), elementCount: bytes.count / dtype.byteSize)
    }

    private mutating func add(_ key: String, dtype: TensorDType, shape: [Int], bytes: Bytes, elementCount: Int) {
        if !seenKeys.insert(key).inserted {
            misuse = misuse ?? "tensor '\(key)' was added twice"
        } else if shape.reduce(1, *) != elementCount || shape.contains(where: { $0 < 0 }) {
            misuse = misuse ?? "tensor '\(key)' has shape \(shape) but \(elementCount) elements"
        }
        entries.append(Entry(key: key, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Writes the file atomically: to a temporary name beside it, then renamed, so a crash never leaves a
    /// truncated checkpoint under the real name.
    public func write(to url: URL) throws {
        if let misuse { throw CheckpointError(.malformed, file: url.path, detail: misuse) }
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var offset = 0
        for entry in entries {
            header[entry.key] = [
                "dtype": entry.dtype.rawValue, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count],
            ]
            offset += entry.bytes.count
        }
        var headerBytes = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))

        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
                throw CheckpointError(.io, file: url.path, detail: "cannot create \(temporary.path)")
            }
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var length = UInt64(headerBytes.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: headerBytes)
            for entry in entries {
                switch entry.bytes {
                case .owned(let bytes): try handle.write(contentsOf: bytes)
                case .borrowed(let bytes): try handle.write(contentsOf: bytes)
                }
            }
            try handle.synchronize()
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError(.io, file: url.path, detail: "cannot write: \(error.localizedDescription)")
        }
    }
}

import Foundation

/// Reads a `torch.save` state_dict (`pytorch_model.bin`) natively: the zip archive is memory-mapped, its
/// `data.pkl` is run by `StateDictUnpickler`, and each tensor is a strided view into an uncompressed
/// `data/<key>` entry of the same mapping.
public final class TorchCheckpointReader: CheckpointReader {
    public let keys: [String]
    public var location: String { file.path }

    private let file: MappedFile
    private let tensors: [String: StoredTensor]

    public init(file url: URL) throws {
        file = try MappedFile(path: url.path)
        let archive = try ZipArchive(file: file)
        // torch names the archive's top folder after the file it saved to ("archive" for streams), so the pickle
        // is found by shape rather than by name.
        guard let pickleName = archive.names.first(where: { name in
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl"
        }) else {
            throw CheckpointError(.malformed, file: file.path, detail: "zip archive has no <name>/data.pkl entry")
        }
        let prefix = String(pickleName.dropLast("data.pkl".count))
        if archive.entries[prefix + "byteorder"] != nil {
            let order = String(decoding: try archive.bytes(of: prefix + "byteorder", in: file), as: UTF8.self)
            guard order == "little" else {
                throw CheckpointError(.unsupported, file: file.path, detail: "tensors are stored \(order)-endian")
            }
        }
        let references = try StateDictUnpickler.tensors(
            pickle: try archive.bytes(of: pickleName, in: file), file: file.path)

        var tensors: [String: StoredTensor] = [:]
        var keys: [String] = []
        keys.reserveCapacity(references.count)
        for (key, reference) in references {
            let storageName = prefix + "data/" + reference.storage.key
            guard archive.entries[storageName] != nil else {
                throw CheckpointError(
                    .malformed, file: file.path, key: key, detail: "storage entry '\(storageName)' is missing")
            }
            let storage = try archive.bytes(of: storageName, in: file)
            let (byteCount, overflow) = reference.storage.elementCount.multipliedReportingOverflow(
                by: reference.storage.dtype.byteSize)
            guard !overflow, storage.count >= byteCount else {
                throw CheckpointError(
                    .malformed, file: file.path, key: key,
                    detail: "storage '\(storageName)' holds \(storage.count) bytes, fewer than its "
                        + "\(reference.storage.elementCount) \(reference.storage.dtype.rawValue) elements")
            }
            let tensor = StoredTensor(
                dtype: reference.storage.dtype, shape: reference.shape, strides: reference.strides,
                offset: reference.offset, storage: UnsafeRawBufferPointer(rebasing: storage[0..<byteCount]))
            guard tensor.fitsStorage() else {
                throw CheckpointError(
                    .malformed, file: file.path, key: key, actualShape: reference.shape,
                    detail: "view (offset \(reference.offset), shape \(reference.shape), strides "
                        + "\(reference.strides)) reaches outside its storage of \(reference.storage.elementCount) "
                        + "elements")
            }
            if tensors.updateValue(tensor, forKey: key) == nil { keys.append(key) }
        }
        self.keys = keys
        self.tensors = tensors
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

    /// Lets the kernel drop the pages of a tensor's storage once it has been copied.
    func releasePages(of key: String) {
        guard let tensor = tensors[key], let start = tensor.storage.baseAddress else { return }
        file.releasePages(start - file.bytes.baseAddress!, tensor.storage.count)
    }
}

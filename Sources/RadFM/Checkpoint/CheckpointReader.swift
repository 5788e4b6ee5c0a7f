import Foundation

/// Read access to the tensors of a checkpoint, whatever its container.
///
/// Readers memory-map their files: opening a 53 GB checkpoint costs its index, and each `read` touches only the
/// bytes of one tensor.
public protocol CheckpointReader: AnyObject {
    /// Every tensor key, in the order the checkpoint lists them.
    var keys: [String] { get }
    /// The tensor's shape, or nil when the checkpoint has no such key.
    func shape(of key: String) -> [Int]?
    /// Copies the tensor into `destination` as contiguous row-major float32, converting float16, bfloat16 and
    /// float64 and following the stored strides. Throws when the key is missing, the element type is not a
    /// floating-point one, or `destination.count` differs from the tensor's element count.
    func read(_ key: String, into destination: UnsafeMutableBufferPointer<Float>) throws
    /// The file (or index file) the reader was opened from, for error messages.
    var location: String { get }
}

extension CheckpointReader {
    public var location: String { String(describing: type(of: self)) }

    /// Reads a tensor after checking that its shape is exactly `expectedShape`, so that a [5120, 32000] tensor
    /// is not silently taken for a [32000, 5120] one of the same size.
    public func read(
        _ key: String, into destination: UnsafeMutableBufferPointer<Float>, expectedShape: [Int]
    ) throws {
        guard let actual = shape(of: key) else { throw CheckpointError.missingTensor(key, file: location) }
        guard actual == expectedShape else {
            throw CheckpointError.shapeMismatch(key, file: location, expected: expectedShape, actual: actual)
        }
        try read(key, into: destination)
    }

    /// Reads a whole tensor into a new array.
    public func readArray(_ key: String) throws -> [Float] {
        guard let shape = shape(of: key) else { throw CheckpointError.missingTensor(key, file: location) }
        let count = shape.reduce(1, *)
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try read(key, into: buffer)
            initialized = count
        }
    }
}

/// Opens the weights of a model directory: `model.safetensors.index.json` (sharded), `model.safetensors`, or
/// `pytorch_model.bin`, preferring safetensors when several are present because it maps without unpickling.
public func openCheckpoint(directory: URL) throws -> CheckpointReader {
    let fileManager = FileManager.default
    for name in ["model.safetensors.index.json", "model.safetensors", "pytorch_model.bin"] {
        let candidate = directory.appendingPathComponent(name)
        if fileManager.fileExists(atPath: candidate.path) { return try openCheckpoint(file: candidate) }
    }
    throw CheckpointError(
        .io, file: directory.path,
        detail: "no model.safetensors.index.json, model.safetensors or pytorch_model.bin in the directory")
}

/// Opens one checkpoint file, choosing the format from its name: `*.index.json` is a sharded safetensors index,
/// `*.safetensors` a single safetensors file, anything else a torch.save zip archive.
public func openCheckpoint(file: URL) throws -> CheckpointReader {
    let name = file.lastPathComponent
    if name.hasSuffix(".index.json") { return try ShardedSafetensorsReader(indexFile: file) }
    if name.hasSuffix(".safetensors") { return try SafetensorsReader(file: file) }
    return try TorchCheckpointReader(file: file)
}

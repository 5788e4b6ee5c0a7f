import Foundation

/// Writes a checkpoint as sharded safetensors with a `model.safetensors.index.json`, the layout transformers
/// and this package load.
///
/// Tensors are added one at a time to the shard being built (copied from a memory-mapped source, or filled by
/// `radfm model init`), and a shard is written and freed before the next one starts, so peak memory stays near
/// one shard, whatever the model size.
public enum SafetensorsSharding {
    public static let indexFileName = "model.safetensors.index.json"

    public struct Summary: Sendable {
        public let shardFiles: [String]
        public let tensorCount: Int
        public let totalBytes: Int
    }

    /// One tensor to store: its key, its size in the file, and how to add it to the writer of its shard.
    /// `add` runs when the shard is built, so the tensor's bytes need to exist only from then until the
    /// shard is written.
    public struct Entry {
        public let key: String
        public let byteCount: Int
        public let add: (inout SafetensorsWriter) throws -> Void

        public init(key: String, byteCount: Int, add: @escaping (inout SafetensorsWriter) throws -> Void) {
            self.key = key
            self.byteCount = byteCount
            self.add = add
        }
    }

    /// Converts `reader`'s tensors into shards of at most `maximumShardBytes` each (a single tensor larger than
    /// that gets a shard of its own) in `directory`, which is created when missing.
    @discardableResult
    public static func write(
        _ reader: CheckpointReader, to directory: URL, maximumShardBytes: Int
    ) throws -> Summary {
        let entries = try reader.keys.map { key in
            Entry(key: key, byteCount: try storedByteCount(key, in: reader)) { writer in
                try copy(key, from: reader, into: &writer)
            }
        }
        return try write(entries, to: directory, maximumShardBytes: maximumShardBytes)
    }

    /// Writes `entries`, in order, into shards of at most `maximumShardBytes` each (a single tensor larger than
    /// that gets a shard of its own) and the index, in `directory`, which is created when missing. With
    /// `singleFileName`, entries that fit in one shard are written as that one file instead, without an index.
    @discardableResult
    public static func write(
        _ entries: [Entry], to directory: URL, maximumShardBytes: Int, singleFileName: String? = nil
    ) throws -> Summary {
        let plan = planShards(entries, maximumShardBytes: maximumShardBytes)
        let single = plan.count <= 1 ? singleFileName : nil
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError(.io, file: directory.path, detail: "cannot create the output directory")
        }
        var weightMap: [String: String] = [:]
        var shardFiles: [String] = []
        var totalBytes = 0
        for (index, shard) in plan.enumerated() {
            let name = single ?? String(format: "model-%05d-of-%05d.safetensors", index + 1, plan.count)
            var writer = SafetensorsWriter()
            for entry in shard {
                try entry.add(&writer)
                weightMap[entry.key] = name
            }
            totalBytes += writer.byteCount
            try writer.write(to: directory.appendingPathComponent(name))
            shardFiles.append(name)
        }
        let summary = Summary(shardFiles: shardFiles, tensorCount: weightMap.count, totalBytes: totalBytes)
        if single != nil { return summary }
        let index: [String: Any] = ["metadata": ["total_size": totalBytes], "weight_map": weightMap]
        let indexURL = directory.appendingPathComponent(indexFileName)
        do {
            let data = try JSONSerialization.data(withJSONObject: index, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: indexURL, options: .atomic)
        } catch {
            throw CheckpointError(.io, file: indexURL.path, detail: "cannot write: \(error.localizedDescription)")
        }
        return summary
    }

    /// Groups entries, in order, into shards by their stored size.
    private static func planShards(_ entries: [Entry], maximumShardBytes: Int) -> [[Entry]] {
        var shards: [[Entry]] = []
        var current: [Entry] = []
        var currentBytes = 0
        for entry in entries {
            if !current.isEmpty, currentBytes + entry.byteCount > maximumShardBytes {
                shards.append(current)
                current = []
                currentBytes = 0
            }
            current.append(entry)
            currentBytes += entry.byteCount
        }
        if !current.isEmpty { shards.append(current) }
        return shards
    }

    private static func storedByteCount(_ key: String, in reader: CheckpointReader) throws -> Int {
        if let source = reader as? StoredTensorSource {
            let tensor = try source.stored(key)
            return tensor.elementCount * tensor.dtype.byteSize
        }
        guard let shape = reader.shape(of: key) else { throw CheckpointError.missingTensor(key, file: reader.location) }
        return shape.reduce(1, *) * MemoryLayout<Float>.size
    }

    private static func copy(_ key: String, from reader: CheckpointReader, into writer: inout SafetensorsWriter) throws {
        guard let source = reader as? StoredTensorSource else {
            let values = try reader.readArray(key)
            values.withUnsafeBufferPointer { writer.add(key, shape: reader.shape(of: key) ?? [values.count], data: $0) }
            return
        }
        let tensor = try source.stored(key)
        let byteCount = tensor.elementCount * tensor.dtype.byteSize
        let bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            if let base = buffer.baseAddress { tensor.copyRaw(into: base) }
            initialized = byteCount
        }
        writer.add(key, dtype: tensor.dtype, shape: tensor.shape, bytes: bytes)
        source.releasePages(of: key)
    }
}

import Foundation

/// Reads safetensors shards through `model.safetensors.index.json`, whose `weight_map` names the shard file of
/// every key. Each shard is opened (and mapped) once, when the index is read.
public final class ShardedSafetensorsReader: CheckpointReader {
    public let keys: [String]
    public var location: String { indexPath }

    private let indexPath: String
    private let shardOfKey: [String: SafetensorsReader]

    public init(indexFile url: URL) throws {
        indexPath = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CheckpointError(.io, file: url.path, detail: "cannot read the index: \(error.localizedDescription)")
        }
        guard let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let weightMap = index["weight_map"] as? [String: String]
        else {
            throw CheckpointError(.malformed, file: url.path, detail: "index has no weight_map object")
        }
        let directory = url.deletingLastPathComponent()
        var shards: [String: SafetensorsReader] = [:]
        for shardName in Set(weightMap.values).sorted() {
            guard !shardName.contains("/") else {
                throw CheckpointError(.malformed, file: url.path, detail: "shard '\(shardName)' is not a file name")
            }
            shards[shardName] = try SafetensorsReader(file: directory.appendingPathComponent(shardName))
        }
        var shardOfKey: [String: SafetensorsReader] = [:]
        for (key, shardName) in weightMap {
            let shard = shards[shardName]!
            guard shard.shape(of: key) != nil else {
                throw CheckpointError(
                    .malformed, file: url.path, key: key, detail: "index places the tensor in \(shardName), which lacks it")
            }
            shardOfKey[key] = shard
        }
        // Shard order, then file order inside a shard: the order the tensors were written in.
        keys = shards.keys.sorted().flatMap { name in shards[name]!.keys.filter { shardOfKey[$0] === shards[name] } }
        self.shardOfKey = shardOfKey
    }

    public func shape(of key: String) -> [Int]? { shardOfKey[key]?.shape(of: key) }

    public func read(_ key: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard let shard = shardOfKey[key] else { throw CheckpointError.missingTensor(key, file: indexPath) }
        try shard.read(key, into: destination)
    }

    func stored(_ key: String) throws -> StoredTensor {
        guard let shard = shardOfKey[key] else { throw CheckpointError.missingTensor(key, file: indexPath) }
        return try shard.stored(key)
    }

    func releasePages(of key: String) { shardOfKey[key]?.releasePages(of: key) }
}

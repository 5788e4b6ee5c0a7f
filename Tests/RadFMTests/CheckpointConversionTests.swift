import Foundation
import XCTest

@testable import RadFM

/// `pytorch_model.bin` -> sharded safetensors, as `radfm model convert` does it.
final class CheckpointConversionTests: XCTestCase {
    func testConvertedShardsHoldEveryTensorOfTheBinWithItsDtype() throws {
        let source = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        let directory = try CheckpointFixtures.temporaryDirectory()
        let summary = try SafetensorsSharding.write(source, to: directory, maximumShardBytes: 64)
        XCTAssertGreaterThan(summary.shardFiles.count, 2)
        XCTAssertEqual(summary.tensorCount, source.keys.count)

        let converted = try ShardedSafetensorsReader(
            indexFile: directory.appendingPathComponent(SafetensorsSharding.indexFileName))
        XCTAssertEqual(converted.keys, source.keys)
        for key in source.keys {
            XCTAssertEqual(converted.shape(of: key), source.shape(of: key), key)
            XCTAssertEqual(try converted.stored(key).dtype, try source.stored(key).dtype, key)
            XCTAssertEqual(try contiguousBytes(converted.stored(key)), try contiguousBytes(source.stored(key)), key)
        }
        XCTAssertEqual(try converted.readArray("decoder.weight_t"), try source.readArray("decoder.weight_t"))
    }

    private func contiguousBytes(_ tensor: StoredTensor) -> [UInt8] {
        let count = tensor.elementCount * tensor.dtype.byteSize
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { tensor.copyRaw(into: base) }
            initialized = count
        }
    }

    func testEveryShardStaysWithinTheLimitUnlessOneTensorExceedsIt() throws {
        let source = try TorchCheckpointReader(file: CheckpointFixtures.url("torch_state_dict.bin"))
        let directory = try CheckpointFixtures.temporaryDirectory()
        let limit = 100
        let summary = try SafetensorsSharding.write(source, to: directory, maximumShardBytes: limit)
        for name in summary.shardFiles {
            let shard = try SafetensorsReader(file: directory.appendingPathComponent(name))
            let bytes = try shard.keys.map { key -> Int in
                let tensor = try shard.stored(key)
                return tensor.elementCount * tensor.dtype.byteSize
            }
            XCTAssertTrue(bytes.reduce(0, +) <= limit || bytes.count == 1, "\(name): \(bytes)")
        }
        let index = try JSONSerialization.jsonObject(
            with: Data(contentsOf: directory.appendingPathComponent(SafetensorsSharding.indexFileName))) as? [String: Any]
        XCTAssertEqual((index?["metadata"] as? [String: Int])?["total_size"], summary.totalBytes)
        XCTAssertEqual((index?["weight_map"] as? [String: String])?.count, source.keys.count)
    }
}

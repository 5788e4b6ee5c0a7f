import Foundation
import XCTest

@testable import RadFM

/// Safetensors written by `SafetensorsWriter` and read back, single-file and sharded.
final class CheckpointSafetensorsTests: XCTestCase {
    private let tensors: [(key: String, shape: [Int], values: [Float])] = [
        ("embedding_layer.fc.weight", [3, 4], (0..<12).map { Float($0) * 0.25 - 1 }),
        ("embedding_layer.fc.bias", [3], [1e-8, -3.5e7, .pi]),
        ("lang_model.model.norm.weight", [2, 1, 2], [0, -0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude]),
        ("scalar", [], [42]),
    ]

    private func writeSingleFile(to url: URL) throws {
        var writer = SafetensorsWriter()
        for tensor in tensors {
            tensor.values.withUnsafeBufferPointer { writer.add(tensor.key, shape: tensor.shape, data: $0) }
        }
        try writer.write(to: url)
    }

    private func assertHoldsTensors(_ reader: CheckpointReader, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(reader.keys, tensors.map(\.key), file: file, line: line)
        for tensor in tensors {
            XCTAssertEqual(reader.shape(of: tensor.key), tensor.shape, file: file, line: line)
            XCTAssertEqual(try reader.readArray(tensor.key).map(\.bitPattern), tensor.values.map(\.bitPattern), file: file, line: line)
        }
    }

    func testSingleFileRoundTripKeepsOrderShapesAndBitExactValues() throws {
        let url = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("model.safetensors")
        try writeSingleFile(to: url)
        try assertHoldsTensors(SafetensorsReader(file: url))
    }

    func testBorrowedTensorsWriteTheSameFileAsCopiedOnesFromTheBuffersAtWriteTime() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        let copied = directory.appendingPathComponent("copied.safetensors")
        let borrowed = directory.appendingPathComponent("borrowed.safetensors")
        try writeSingleFile(to: copied)
        let buffers = tensors.map { tensor -> UnsafeMutableBufferPointer<Float> in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: tensor.values.count)
            _ = buffer.initialize(from: tensor.values.map { _ in Float.nan })
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var writer = SafetensorsWriter()
        for (tensor, buffer) in zip(tensors, buffers) {
            writer.add(tensor.key, shape: tensor.shape, borrowing: UnsafeBufferPointer(buffer))
        }
        // Nothing was copied at `add`: the values filled in afterwards are the ones written.
        for (tensor, buffer) in zip(tensors, buffers) { _ = buffer.update(from: tensor.values) }
        try writer.write(to: borrowed)
        XCTAssertEqual(try Data(contentsOf: borrowed), try Data(contentsOf: copied))
        try assertHoldsTensors(SafetensorsReader(file: borrowed))
    }

    func testWrittenHeaderIsPaddedToEightBytesAndTaggedForPyTorch() throws {
        let url = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("model.safetensors")
        try writeSingleFile(to: url)
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(headerLength % 8, 0)
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any]
        XCTAssertEqual((header?["__metadata__"] as? [String: String])?["format"], "pt")
        XCTAssertEqual(data.count, 8 + headerLength + tensors.reduce(0) { $0 + $1.values.count * 4 })
    }

    func testShardedCheckpointIsReadThroughItsIndex() throws {
        let source = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("model.safetensors")
        try writeSingleFile(to: source)
        let directory = try CheckpointFixtures.temporaryDirectory("sharded")
        // 48 bytes per shard puts the 12-float weight alone and the small tensors together.
        let summary = try SafetensorsSharding.write(SafetensorsReader(file: source), to: directory, maximumShardBytes: 48)
        XCTAssertEqual(summary.shardFiles, ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        let reader = try openCheckpoint(directory: directory)
        XCTAssertTrue(reader is ShardedSafetensorsReader)
        try assertHoldsTensors(reader)
    }

    func testIndexNamingAMissingShardGivesErrorNamingTheShard() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        let index = #"{"metadata": {}, "weight_map": {"a": "model-00001-of-00001.safetensors"}}"#
        try index.write(to: directory.appendingPathComponent("model.safetensors.index.json"), atomically: true, encoding: .utf8)
        let error = checkpointError { _ = try openCheckpoint(directory: directory) }
        XCTAssertEqual(error?.kind, .io)
        XCTAssertTrue(error?.file.hasSuffix("model-00001-of-00001.safetensors") ?? false, error?.description ?? "")
    }

    func testTruncatedSafetensorsGivesTypedErrorNamingTheFileAndTensor() throws {
        let directory = try CheckpointFixtures.temporaryDirectory()
        let url = directory.appendingPathComponent("model.safetensors")
        try writeSingleFile(to: url)
        let truncated = directory.appendingPathComponent("truncated.safetensors")
        // Two bytes short: only the last tensor written, the 4-byte scalar, is cut.
        try Data(contentsOf: url).dropLast(2).write(to: truncated)
        let error = checkpointError { _ = try SafetensorsReader(file: truncated) }
        XCTAssertEqual(error?.kind, .malformed)
        XCTAssertEqual(error?.file, truncated.path)
        XCTAssertTrue(error?.description.contains("tensor 'scalar'") ?? false, error?.description ?? "")
    }

    func testGarbageHeaderGivesTypedErrorNamingTheFile() throws {
        let url = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("garbage.safetensors")
        var bytes: [UInt8] = [16, 0, 0, 0, 0, 0, 0, 0]
        bytes += Array("{not json at all".utf8)
        try Data(bytes).write(to: url)
        let error = checkpointError { _ = try SafetensorsReader(file: url) }
        XCTAssertEqual(error?.kind, .malformed)
        XCTAssertEqual(error?.file, url.path)
    }

    func testAddingAKeyTwiceFailsTheWriteNamingTheKey() throws {
        var writer = SafetensorsWriter()
        let values: [Float] = [1, 2]
        values.withUnsafeBufferPointer {
            writer.add("w", shape: [2], data: $0)
            writer.add("w", shape: [2], data: $0)
        }
        let url = try CheckpointFixtures.temporaryDirectory().appendingPathComponent("dup.safetensors")
        let error = checkpointError { try writer.write(to: url) }
        XCTAssertTrue(error?.detail.contains("'w'") ?? false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }
}

import Foundation
import RadFM
import TestSupport
import XCTest

/// `radfm model init` fills and stores the model one tensor at a time: past `--shard-size` it writes shards
/// and an index instead of one file, and either way the stored weights are the same for one seed.
final class ModelInitCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = try CommandLineTesting.temporaryFolder("model-init")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func initModel(into name: String, extra: [String]) throws -> URL {
        let out = folder.appendingPathComponent(name)
        let config = CommandLineTesting.repository.appendingPathComponent("Config/models/radfm-tiny.json")
        let made = try CommandLineTesting.radfm(
            ["model", "init", "--config", config.path, "--tokenizer", try CommandLineTesting.tokenizer().path,
             "--out", out.path, "--seed", "7"] + extra,
            builtWith: Self.self)
        XCTAssertEqual(made.status, 0, made.errors)
        return out
    }

    func testShardedInitStoresTheSameWeightsAsOneFile() throws {
        let single = try initModel(into: "single", extra: [])
        let sharded = try initModel(into: "sharded", extra: ["--shard-size", "200KB"])
        let files = try FileManager.default.contentsOfDirectory(atPath: sharded.path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: single.appendingPathComponent("model.safetensors").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: single.appendingPathComponent(SafetensorsSharding.indexFileName).path))
        XCTAssertFalse(files.contains("model.safetensors"))
        XCTAssertTrue(files.contains(SafetensorsSharding.indexFileName))
        XCTAssertGreaterThan(files.filter { $0.hasPrefix("model-") }.count, 2, "a tiny model is several 200 KB shards")

        let one = try openCheckpoint(directory: single), many = try openCheckpoint(directory: sharded)
        XCTAssertEqual(Set(one.keys), Set(many.keys))
        XCTAssertFalse(one.keys.isEmpty)
        for key in one.keys {
            XCTAssertEqual(one.shape(of: key), many.shape(of: key), key)
            XCTAssertTrue(try one.readArray(key) == many.readArray(key), "\(key) differs")
        }
        // Random projections, not pages given back too early (which would read as zeros).
        let projection = try XCTUnwrap(one.keys.first { $0.hasSuffix("q_proj.weight") })
        XCTAssertGreaterThan(try many.readArray(projection).filter { $0 != 0 }.count, 0)
    }
}

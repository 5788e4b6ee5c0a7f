import Foundation
import RadFM
import XCTest

/// `radfm model init` fills and stores the model one tensor at a time: past `--shard-size` it writes shards
/// and an index instead of one file, and either way the stored weights are the same for one seed.
final class ModelInitCommandTests: XCTestCase {
    private static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("model-init-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func skipOrFail(_ message: String) throws -> Never {
        if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail(message) }
        throw XCTSkip(message)
    }

    private func initModel(into name: String, extra: [String]) throws -> URL {
        let bundle = Bundle(for: Self.self).bundleURL
        let binary = (bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle).appendingPathComponent("radfm")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else { try skipOrFail("radfm not built at \(binary.path)") }
        let tokenizer = [Self.repository.deletingLastPathComponent().appendingPathComponent("shared/radfm/tokenizer.model"),
                         URL(fileURLWithPath: "/work/shared/radfm/tokenizer.model")]
            .first { FileManager.default.fileExists(atPath: $0.path) }
        guard let tokenizer else { try skipOrFail("LLaMA tokenizer.model not found in shared/radfm") }
        let out = folder.appendingPathComponent(name)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["model", "init", "--config", Self.repository.appendingPathComponent("Config/models/radfm-tiny.json").path,
                             "--tokenizer", tokenizer.path, "--out", out.path, "--seed", "7"] + extra
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, message)
        return out
    }

    func testShardedInitStoresTheSameWeightsAsOneFile() throws {
        let single = try initModel(into: "single", extra: [])
        let sharded = try initModel(into: "sharded", extra: ["--shard-size", "200KB"])
        let files = try FileManager.default.contentsOfDirectory(atPath: sharded.path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: single.appendingPathComponent("model.safetensors").path))
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

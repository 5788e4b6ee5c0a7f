import Foundation
import XCTest

@testable import RadFM

/// Small committed checkpoints in Fixtures/ (see Fixtures/README.md for how each was made) and scratch
/// directories for the files tests write.
enum CheckpointFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    struct ExpectedTensor: Decodable {
        let shape: [Int]
        let values: [Double]
    }

    /// An int64 buffer (like BERT's `position_ids` in RadFM's checkpoint): listed, converted, never read as float.
    static let integerKey = "bert.position_ids"

    /// The values torch itself reports for the fixture's floating-point tensors, converted to float32 by torch,
    /// in save order.
    static func expectedTensors() throws -> [(key: String, tensor: ExpectedTensor)] {
        let data = try Data(contentsOf: url("torch_state_dict.expected.json"))
        let decoded = try JSONDecoder().decode([String: ExpectedTensor].self, from: data)
        let order = ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.weight_t", "shared.view", "scalar",
                     "half.t", "empty"]
        XCTAssertEqual(Set(order), Set(decoded.keys), "fixture keys changed; update the save order above")
        return order.map { ($0, decoded[$0]!) }
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("radfm-checkpoint-tests-\(ProcessInfo.processInfo.processIdentifier)")
            .appendingPathComponent(name.filter { $0.isLetter || $0.isNumber })
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension XCTestCase {
    /// Runs `body` and returns the `CheckpointError` it throws, failing when it throws nothing or another error.
    func checkpointError(
        file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) -> CheckpointError? {
        do {
            try body()
            XCTFail("expected a CheckpointError, nothing was thrown", file: file, line: line)
        } catch let error as CheckpointError {
            return error
        } catch {
            XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
        }
        return nil
    }
}

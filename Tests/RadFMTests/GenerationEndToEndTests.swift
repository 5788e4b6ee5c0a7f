import Foundation
import XCTest
@testable import RadFM
import Tensor

/// The service path: a model directory on disk (config.json, safetensors weights, tokenizer.model) through
/// `RadFMGenerator`, batched.
final class GenerationEndToEndTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        let candidates = [
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tokenizer.model"),
            URL(fileURLWithPath: "/work/shared/radfm/tokenizer.model"),
        ] + (ProcessInfo.processInfo.environment["RADFM_TOKENIZER_MODEL"].map { [URL(fileURLWithPath: $0)] } ?? [])
        guard let tokenizer = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw XCTSkip("RadFM's tokenizer.model is not available (set RADFM_TOKENIZER_MODEL)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("radfm-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: tokenizer, to: directory.appendingPathComponent("tokenizer.model"))
        try JSONEncoder().encode(TinyModel.config).write(to: directory.appendingPathComponent("config.json"))
        var writer = SafetensorsWriter()
        for (key, tensor) in TinyModel.checkpoint().tensors {
            tensor.values.withUnsafeBufferPointer { writer.add(key, shape: tensor.shape, data: $0) }
        }
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    static let requests = [
        GenerationRequest(images: [TinyModel.image(depth: 4, seed: 21)], prompt: "What modality is this scan?"),
        GenerationRequest(images: [TinyModel.image(depth: 8, seed: 22), TinyModel.image(depth: 2, seed: 23)],
                          prompt: "Compare the two studies.", imagePosition: 7),
        GenerationRequest(images: [], prompt: "Hello"),
    ]

    func testPromptHoldsBosThenImageMarkupThenQuestion() throws {
        let generator = try RadFMGenerator(modelDirectory: directory)
        let ids = generator.promptTokens(for: Self.requests[0])
        XCTAssertEqual(Array(ids.prefix(7)), [1, 32000, 32002, 32003, 32004, 32005, 32001])
        XCTAssertEqual(Array(ids.dropFirst(7)), generator.tokenizer.encode("What modality is this scan?", addBOS: false))
        let second = generator.promptTokens(for: Self.requests[1])
        XCTAssertEqual(second.filter { $0 >= 32002 }, (32002...32009).map { $0 })
    }

    func testBatchedRequestsEqualOneByOneAndTheInMemoryModel() throws {
        let generator = try RadFMGenerator(modelDirectory: directory)
        let batched = try generator.generate(Self.requests, maxNewTokens: 6)
        let reference = GreedyDecoder(model: try TinyModel.loadedModel())
        for (index, request) in Self.requests.enumerated() {
            let alone = try generator.generate([request], maxNewTokens: 6)[0]
            XCTAssertEqual(batched[index].tokenIDs, alone.tokenIDs, "request \(index)")
            XCTAssertEqual(batched[index].promptTokenIDs, alone.promptTokenIDs)
            XCTAssertEqual(batched[index].text, generator.tokenizer.decode(batched[index].tokenIDs))
            let direct = try reference.run(prompts: [alone.promptTokenIDs], images: [request.images], maxNewTokens: 6)
            XCTAssertEqual(alone.tokenIDs, direct.tokens[0], "safetensors-loaded model differs from in-memory weights")
        }
    }

    func testPromptLogitsAreReturnedOnRequest() throws {
        let generator = try RadFMGenerator(modelDirectory: directory)
        let result = try generator.generate([Self.requests[0]], maxNewTokens: 1, keepPromptLogits: true)[0]
        XCTAssertEqual(result.promptLogits?.count, TinyModel.config.text.vocabSize)
        XCTAssertEqual(result.tokenIDs, [GreedyDecoder.argmax(result.promptLogits!, count: result.promptLogits!.count)])
    }
}

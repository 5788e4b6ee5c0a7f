import XCTest
@testable import RadFM
import Tensor

final class GenerationBatchingTests: XCTestCase {
    /// Samples of different lengths and image counts (none, one, two).
    static func samples() -> (prompts: [[Int32]], images: [[Tensor]]) {
        let images: [[Tensor]] = [
            [TinyModel.image(depth: 4, seed: 11)],
            [],
            [TinyModel.image(depth: 8, seed: 12), TinyModel.image(depth: 2, seed: 13)],
            [TinyModel.image(depth: 6, seed: 14)],
        ]
        let prompts = [
            TinyModel.prompt(images: 1, text: [1724, 338, 278, 878, 3097, 29973]),
            TinyModel.prompt(images: 0, text: [15043, 29892]),
            TinyModel.prompt(images: 2, text: [4007, 19016, 29901]),
            TinyModel.prompt(images: 1, text: Array(repeating: 263, count: 30)),
        ]
        return (prompts, images)
    }

    func testBatchedGenerationEqualsOneByOne() throws {
        let decoder = GreedyDecoder(model: try TinyModel.loadedModel())
        let (prompts, images) = Self.samples()
        let batched = try decoder.run(prompts: prompts, images: images, maxNewTokens: 12, keepPromptLogits: true)
        for sample in prompts.indices {
            let alone = try decoder.run(prompts: [prompts[sample]], images: [images[sample]], maxNewTokens: 12,
                                        keepPromptLogits: true)
            XCTAssertEqual(batched.tokens[sample], alone.tokens[0], "sample \(sample)")
            XCTAssertEqual(batched.tokens[sample].count, 12)
            XCTAssertLessThan(relativeL2(batched.promptLogits![sample], alone.promptLogits![0]), 1e-6)
        }
    }

    func testQuestionsSharingImageTensorsAnswerAsWithSeparateCopies() throws {
        let decoder = GreedyDecoder(model: try TinyModel.loadedModel())
        let shared = [TinyModel.image(depth: 4, seed: 21), TinyModel.image(depth: 4, seed: 22)]
        let copies = shared.map { $0.copy() }
        let prompts = [TinyModel.prompt(images: 2, text: [1724, 338]), TinyModel.prompt(images: 2, text: [4007, 19016, 29901])]
        let once = try decoder.run(prompts: prompts, images: [shared, shared], maxNewTokens: 6, keepPromptLogits: true)
        let apart = try decoder.run(prompts: prompts, images: [shared, copies], maxNewTokens: 6, keepPromptLogits: true)
        XCTAssertEqual(once.tokens, apart.tokens)
        for sample in prompts.indices {
            XCTAssertLessThan(relativeL2(once.promptLogits![sample], apart.promptLogits![sample]), 1e-6)
        }
    }

    func testGenerationIsDeterministic() throws {
        let decoder = GreedyDecoder(model: try TinyModel.loadedModel())
        let (prompts, images) = Self.samples()
        let first = try decoder.run(prompts: prompts, images: images, maxNewTokens: 5)
        let second = try decoder.run(prompts: prompts, images: images, maxNewTokens: 5)
        XCTAssertEqual(first.tokens, second.tokens)
    }

    func testGenerationStopsAtEosAndKeepsIt() throws {
        let (prompts, images) = Self.samples()
        let free = try GreedyDecoder(model: try TinyModel.loadedModel()).run(
            prompts: [prompts[0]], images: [images[0]], maxNewTokens: 8).tokens[0]
        // Declare the model's fourth token to be eos: generation must end right after producing it.
        var config = TinyModel.config
        config.eosTokenId = free[3]
        let stopped = try GreedyDecoder(model: try TinyModel.loadedModel(config: config)).run(
            prompts: [prompts[0]], images: [images[0]], maxNewTokens: 8).tokens[0]
        XCTAssertEqual(stopped, Array(free[...free.firstIndex(of: free[3])!]))
    }

    func testZeroNewTokensStillGivesPromptLogits() throws {
        let (prompts, images) = Self.samples()
        let output = try GreedyDecoder(model: try TinyModel.loadedModel()).run(
            prompts: prompts, images: images, maxNewTokens: 0, keepPromptLogits: true)
        XCTAssertEqual(output.tokens, Array(repeating: [], count: prompts.count))
        XCTAssertEqual(output.promptLogits?.count, prompts.count)
    }

    func testVisualTokenBeyondTheSampleImagesIsRejected() throws {
        let model = try TinyModel.loadedModel()
        let prompt = TinyModel.prompt(images: 2, text: [263])
        XCTAssertThrowsError(try GreedyDecoder(model: model).run(
            prompts: [prompt], images: [[TinyModel.image(depth: 4, seed: 1)]], maxNewTokens: 1)
        ) { error in
            XCTAssertEqual(error as? RadFMModelError, .visualTokenOutOfRange(
                sample: 0, tokenId: Int32(TinyModel.config.firstVisualTokenId + 4), visualTokens: 4))
        }
    }

    func testImageThatDoesNotTileIntoPatchesIsRejected() throws {
        let model = try TinyModel.loadedModel()
        let image = Tensor(zeros: [3, 16, 12, 4])
        XCTAssertThrowsError(try model.visualTokens([image])) { error in
            guard case .imageShape(let index, let shape, _)? = error as? RadFMModelError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(index, 0)
            XCTAssertEqual(shape, [3, 16, 12, 4])
        }
    }
}

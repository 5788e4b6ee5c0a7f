import XCTest
@testable import RadFM
import Tensor

/// Each stage of the Swift model against the independent numpy reference, on the tiny random model.
final class ModelParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    /// The model, its inputs and the reference outputs, computed once for all tests of this class.
    struct Fixture {
        let model: RadFMModel
        let inputs: ModelReference.Inputs
        let reference: ModelReference
    }

    static let fixture: Result<Fixture, Error> = Result {
        let checkpoint = TinyModel.checkpoint()
        let model = RadFMModel(config: TinyModel.config)
        try model.load(from: checkpoint)
        var random = SplitMix64(seed: 99)
        let layerRows = 11, hidden = TinyModel.config.text.hiddenSize
        let inputs = ModelReference.Inputs(
            // Two images of different depths; the first is not a cube of patches.
            images: [TinyModel.image(depth: 6, seed: 1), TinyModel.image(depth: 8, seed: 2)],
            layerInput: Tensor(shape: [layerRows, hidden],
                               values: (0..<layerRows * hidden).map { _ in random.nextUniform() }),
            prompt: TinyModel.prompt(images: 2, text: [450, 1967, 338, 263, 13, 29871]),
            greedySteps: 6)
        return Fixture(model: model, inputs: inputs,
                       reference: try ModelReference.run(checkpoint: checkpoint, inputs: inputs))
    }

    func testVisionTransformerMatchesReference() throws {
        let fixture = try Self.fixture.get()
        let features = try fixture.model.visionFeatures(fixture.inputs.images[0])
        XCTAssertEqual(features.shape, [2 * 2 * 3, TinyModel.config.vision.dim])
        XCTAssertLessThan(relativeL2(features.toArray(), fixture.reference.vit), Self.tolerance)
    }

    func testPerceiverMatchesReference() throws {
        let fixture = try Self.fixture.get()
        let latents = fixture.model.resample(try fixture.model.visionFeatures(fixture.inputs.images[0]))
        XCTAssertEqual(latents.shape, [TinyModel.config.perceiver.numLatents, TinyModel.config.vision.dim])
        XCTAssertLessThan(relativeL2(latents.toArray(), fixture.reference.perceiver), Self.tolerance)
    }

    func testLlamaLayerMatchesReference() throws {
        let fixture = try Self.fixture.get()
        let x = fixture.inputs.layerInput.copy()
        let cache = fixture.model.makeCache(capacity: x.rows)
        let positions = (0..<Int32(x.rows)).map { $0 }
        positions.withUnsafeBufferPointer { positions in
            fixture.model.decoder.layers[0](
                x, layer: 0, segments: [SequenceSegment(start: 0, count: x.rows, cache: cache)],
                positions: positions.baseAddress!, rotary: fixture.model.decoder.rotary,
                workspace: LlamaWorkspace(rows: x.rows, config: TinyModel.config.text))
        }
        XCTAssertLessThan(relativeL2(x.toArray(), fixture.reference.llamaLayer0), Self.tolerance)
    }

    func testLastPositionLogitsMatchReference() throws {
        let fixture = try Self.fixture.get()
        let model = fixture.model
        let visual = try model.visualTokens(fixture.inputs.images)
        let prompt = fixture.inputs.prompt
        let logits = try model.forward(tokens: [prompt], visualTokens: [visual],
                                       caches: [model.makeCache(capacity: prompt.count)])
        XCTAssertEqual(logits.shape, [1, TinyModel.config.text.vocabSize])
        XCTAssertLessThan(relativeL2(logits.toArray(), fixture.reference.logits), Self.tolerance)
    }

    func testGreedyTokensMatchReference() throws {
        let fixture = try Self.fixture.get()
        let output = try GreedyDecoder(model: fixture.model).run(
            prompts: [fixture.inputs.prompt], images: [fixture.inputs.images],
            maxNewTokens: fixture.inputs.greedySteps)
        XCTAssertEqual(output.tokens[0], fixture.reference.greedyTokens)
    }
}

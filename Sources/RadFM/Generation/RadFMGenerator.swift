import Foundation
import Tensor

/// The model service's entry point: loads a model directory (config.json, tokenizer.model, weights) and
/// answers batches of image + question requests with greedy generation.
public final class RadFMGenerator {
    public let model: RadFMModel
    public let tokenizer: RadFMTokenizer

    public convenience init(modelDirectory: URL) throws {
        let config = try RadFMConfig.load(from: modelDirectory.appendingPathComponent("config.json"))
        let tokenizer = try RadFMTokenizer(modelFile: modelDirectory.appendingPathComponent("tokenizer.model"))
        let model = RadFMModel(config: config)
        try model.load(from: try openCheckpoint(directory: modelDirectory))
        self.init(model: model, tokenizer: tokenizer)
    }

    public init(model: RadFMModel, tokenizer: RadFMTokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// The full prompt ids of a request: bos, image markup at the request's position, question.
    public func promptTokens(for request: GenerationRequest) -> [Int32] {
        let text = PromptBuilder.text(question: request.prompt, imageCount: request.images.count,
                                      tokensPerImage: model.config.tokensPerImage, position: request.imagePosition)
        return tokenizer.encode(text, addBOS: true)
    }

    public func generate(
        _ requests: [GenerationRequest], maxNewTokens: Int, keepPromptLogits: Bool = false
    ) throws -> [GenerationResult] {
        let prompts = requests.map(promptTokens(for:))
        let output = try GreedyDecoder(model: model).run(
            prompts: prompts, images: requests.map(\.images), maxNewTokens: maxNewTokens,
            keepPromptLogits: keepPromptLogits)
        return prompts.indices.map { sample in
            GenerationResult(
                text: tokenizer.decode(output.tokens[sample], skipSpecialTokens: true),
                promptTokenIDs: prompts[sample], tokenIDs: output.tokens[sample], timings: output.timings,
                promptLogits: output.promptLogits?[sample])
        }
    }
}

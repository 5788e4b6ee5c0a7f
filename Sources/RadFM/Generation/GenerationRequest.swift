import Tensor

/// One sample to answer: its images, already preprocessed to [3, H, W, D] tensors, and the question.
public struct GenerationRequest: Sendable {
    public var images: [Tensor]
    public var prompt: String
    /// Character (Unicode scalar) position in `prompt` where the image markup goes, as in RadFM's data
    /// code; 0 puts the images before the question.
    public var imagePosition: Int

    public init(images: [Tensor], prompt: String, imagePosition: Int = 0) {
        self.images = images
        self.prompt = prompt
        self.imagePosition = imagePosition
    }
}

/// Wall-clock seconds of each stage of a batched generation call; every sample of the batch reports the
/// batch's stages, since they ran together.
public struct GenerationTimings: Sendable, Equatable, Codable {
    public var visionSeconds: Double = 0
    public var prefillSeconds: Double = 0
    public var decodeSeconds: Double = 0
    public var decodeSteps: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case visionSeconds = "vision_seconds", prefillSeconds = "prefill_seconds"
        case decodeSeconds = "decode_seconds", decodeSteps = "decode_steps"
    }
}

public struct GenerationResult: Sendable {
    public var text: String
    /// The full prompt: bos, image markup, question.
    public var promptTokenIDs: [Int32]
    /// The generated tokens, ending with eos when generation stopped there.
    public var tokenIDs: [Int32]
    public var timings: GenerationTimings
    /// Logits [vocab] at the last prompt position, when requested.
    public var promptLogits: [Float]?
}

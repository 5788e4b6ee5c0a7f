import ArgumentParser
import Foundation
import Imaging
import RadFM
import Tensor

/// `radfm infer`: one sample (its images and a question) through a model directory, greedy decoding.
struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Answer a question about one or more images with a RadFM model directory.")

    enum OutputFormat: String, ExpressibleByArgument { case text, json }

    @Option(help: "Model directory with config.json, tokenizer.model and weights (default: $RADFM_MODEL).")
    var model: String?

    @Option(name: .customLong("image"),
            help: "Image of the sample, in order: DICOM file or folder, NIfTI, PNG, JPEG, or a preprocessed .npy [3,H,W,D] used as is.")
    var images: [String] = []

    @Option(help: "The question; the images are placed before it.")
    var prompt: String

    @Option(help: "Stop after this many generated tokens (RadFM used 200).")
    var maxNewTokens: Int = 200

    @Option(help: "text or json.")
    var format: OutputFormat = .text

    @Option(help: "Write the float32 logits at the last prompt position, shape [vocab], to this .npy file.")
    var dumpLogits: String?

    func run() throws {
        guard let directory = model ?? ProcessInfo.processInfo.environment["RADFM_MODEL"] else {
            throw ValidationError("--model is required (or set RADFM_MODEL)")
        }
        guard maxNewTokens >= 0 else { throw ValidationError("--max-new-tokens must not be negative") }
        let generator = try RadFMGenerator(modelDirectory: URL(fileURLWithPath: directory))
        let inputs = try Self.loadImages(images, config: generator.model.config)
        let result = try generator.generate(
            [GenerationRequest(images: inputs, prompt: prompt)], maxNewTokens: maxNewTokens,
            keepPromptLogits: dumpLogits != nil)[0]

        if let dumpLogits, let logits = result.promptLogits {
            try NpyFile.write(NpyArray(shape: [logits.count], data: logits), to: dumpLogits)
        }
        switch format {
        case .text:
            print(result.text)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(InferOutput(result)), as: UTF8.self))
        }
    }

    /// The sample's image tensors, in argument order. Preprocessed `.npy` tensors ([3,H,W,D], or a sample's
    /// stack [S,3,H,W,D] from `radfm preprocess`) are used as is; DICOM, NIfTI, PNG and JPEG files go
    /// through RadFM's preprocessing together, because the images of one sample share one depth.
    static func loadImages(_ paths: [String], config: RadFMConfig) throws -> [Tensor] {
        let isTensor = paths.map { $0.lowercased().hasSuffix(".npy") }
        if isTensor.allSatisfy({ $0 }) { return try paths.flatMap(loadTensor) }
        guard !isTensor.contains(true) else {
            throw InferInputError(
                "mixing preprocessed .npy tensors with image files in one sample is not supported; "
                + "preprocess them together with `radfm preprocess`")
        }
        let builder = ModelInputBuilder(imageSize: config.vision.imageSize, maxImages: config.maxImages)
        let stack = try builder.build(images: paths.map { URL(fileURLWithPath: $0) })
        return split(stack.tensor, shape: stack.shape)
    }

    static func loadTensor(_ path: String) throws -> [Tensor] {
        let array = try NpyFile.read(path: path)
        switch array.shape.count {
        case 4: return [Tensor(shape: array.shape, values: array.data)]
        case 5: return split(array.data, shape: array.shape)
        default: throw InferInputError("\(path): shape \(array.shape) is neither [3,H,W,D] nor [S,3,H,W,D]")
        }
    }

    /// [S, 3, H, W, D] values to S image tensors.
    static func split(_ values: [Float], shape: [Int]) -> [Tensor] {
        let imageShape = Array(shape.dropFirst()), size = imageShape.reduce(1, *)
        return (0..<shape[0]).map { Tensor(shape: imageShape, values: Array(values[$0 * size..<($0 + 1) * size])) }
    }
}

struct InferInputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// JSON output of `radfm infer` (DESIGN section 5, CLI contract).
struct InferOutput: Encodable {
    let text: String
    let promptTokenIDs: [Int32]
    let tokenIDs: [Int32]
    let timings: GenerationTimings

    init(_ result: GenerationResult) {
        text = result.text
        promptTokenIDs = result.promptTokenIDs
        tokenIDs = result.tokenIDs
        timings = result.timings
    }

    enum CodingKeys: String, CodingKey {
        case text, promptTokenIDs = "prompt_token_ids", tokenIDs = "token_ids", timings
    }
}

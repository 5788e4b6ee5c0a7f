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
            help: "Image of the sample, in order. A .npy of shape [3,H,W,D] (or [S,3,H,W,D] from `radfm preprocess`) is used as is.")
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
        let inputs = try images.flatMap(Self.loadImage)
        let generator = try RadFMGenerator(modelDirectory: URL(fileURLWithPath: directory))
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

    /// The model tensors in one image file: a preprocessed .npy holds one image [3,H,W,D] or a sample's
    /// stack [S,3,H,W,D].
    static func loadImage(_ path: String) throws -> [Tensor] {
        guard path.lowercased().hasSuffix(".npy") else {
            throw ValidationError(
                "\(path): only preprocessed .npy tensors are read by `radfm infer` so far; "
                + "DICOM, NIfTI, PNG and JPEG preprocessing is not wired in yet")
        }
        let array = try NpyFile.read(path: path)
        switch array.shape.count {
        case 4:
            return [Tensor(shape: array.shape, values: array.data)]
        case 5:
            let shape = Array(array.shape.dropFirst()), size = shape.reduce(1, *)
            return (0..<array.shape[0]).map { Tensor(shape: shape, values: Array(array.data[$0 * size..<($0 + 1) * size])) }
        default:
            throw ValidationError("\(path): shape \(array.shape) is neither [3,H,W,D] nor [S,3,H,W,D]")
        }
    }
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

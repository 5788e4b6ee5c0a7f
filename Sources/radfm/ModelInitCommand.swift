import ArgumentParser
import Foundation
import RadFM

/// `radfm model init`: a model directory with the given config and random weights, for tests, the
/// quickstart and training from scratch. The weights follow RadFM's key names, so every loader path
/// (safetensors here; `pytorch_model.bin` from PyTorch) is the one used for real checkpoints.
struct ModelInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a model directory with random weights (normal, std 0.02; norms 1; biases 0).")

    @Option(name: .long, help: "RadFM config.json to use (e.g. Config/models/radfm-tiny.json).")
    var config: String

    @Option(name: .long, help: "SentencePiece tokenizer.model to copy into the directory.")
    var tokenizer: String

    @Option(name: .long, help: "Output model directory (created).")
    var out: String

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: "Largest shard, e.g. 2GB or 500MB: a model larger than this is written as sharded safetensors with model.safetensors.index.json, otherwise as one model.safetensors.")
    var shardSize: String = "2GB"

    func run() throws {
        guard let maximumShardBytes = ModelConvertCommand.byteCount(shardSize), maximumShardBytes > 0 else {
            throw ValidationError("--shard-size '\(shardSize)' is not a size such as 2GB, 500MB or 1073741824")
        }
        let configURL = URL(fileURLWithPath: config)
        let modelConfig = try RadFMConfig.load(from: configURL)
        let outURL = URL(fileURLWithPath: out, isDirectory: true)
        // The model's large tensors are anonymous mappings that cost nothing until written. Each tensor is
        // filled, copied into its shard (or the one file) and given back to the kernel, so memory stays near one
        // shard; `write` creates the output folder.
        let model = RadFMModel(config: modelConfig, layout: .contiguous)
        var random = SplitMix64(seed: seed)
        let entries = model.parameters.map { binding in
            SafetensorsSharding.Entry(key: binding.key, byteCount: binding.count * MemoryLayout<Float>.size) { writer in
                RandomInitialisation.fill(binding.values, key: binding.key, shape: binding.shape, random: &random)
                writer.add(binding.key, shape: binding.shape, data: UnsafeBufferPointer(binding.values))
                binding.releasePages()
            }
        }
        let summary = try SafetensorsSharding.write(entries, to: outURL, maximumShardBytes: maximumShardBytes,
                                                    singleFileName: "model.safetensors")
        let layout = summary.shardFiles.count == 1 ? summary.shardFiles[0] : "\(summary.shardFiles.count) shards"
        try Data(contentsOf: configURL).write(to: outURL.appendingPathComponent("config.json"))
        let tokenizerTarget = outURL.appendingPathComponent("tokenizer.model")
        try? FileManager.default.removeItem(at: tokenizerTarget)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: tokenizer), to: tokenizerTarget)
        let parameters = model.parameters.reduce(0) { $0 + $1.count }
        print("model init: \(model.parameters.count) tensors, \(parameters) parameters, seed \(seed) -> \(outURL.path) (\(layout))")
    }
}

/// Initialisation by role: in RadFM every one-dimensional weight is a LayerNorm or RMSNorm scale
/// (starts at 1), biases start at 0, and everything else (projections, embeddings, latents, position
/// tables) at N(0, 0.02²).
enum RandomInitialisation {
    static func fill(_ values: UnsafeMutableBufferPointer<Float>, key: String, shape: [Int], random: inout SplitMix64) {
        if key.hasSuffix(".bias") {
            values.initialize(repeating: 0)
        } else if shape.count == 1 {
            values.initialize(repeating: 1)
        } else {
            for i in values.indices { values[i] = 0.02 * random.nextGaussian() }
        }
    }
}

/// Small, fast, reproducible across platforms (Swift's default generator is not seedable).
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Box-Muller; one of the pair is discarded for simplicity.
    mutating func nextGaussian() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

import ArgumentParser
import Foundation
import RadFM

/// `radfm model`: tools for model directories.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Create and convert RadFM model directories.",
        subcommands: [ModelConvertCommand.self, ModelInitCommand.self])
}

/// `radfm model convert`: a `pytorch_model.bin` (or any checkpoint this package reads) to sharded safetensors,
/// tensor by tensor, so the peak memory is about one shard whatever the size of the model.
struct ModelConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a checkpoint as sharded safetensors with model.safetensors.index.json.",
        discussion: """
            Each tensor keeps its dtype. When --in is a model directory, its config.json and tokenizer files are \
            copied to --out too, so --out is a complete model directory.
            """)

    /// Files of a model directory besides the weights.
    private static let companionFiles = [
        "config.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
    ]

    @Option(name: .customLong("in"), help: "Model directory, or a pytorch_model.bin / .safetensors / index file.")
    var input: String

    @Option(help: "Output directory (created when missing).")
    var out: String

    @Option(help: "Largest shard, e.g. 2GB, 500MB, 4GiB, or a number of bytes (1 GB = 10^9 bytes, as transformers).")
    var shardSize: String = "2GB"

    func run() throws {
        guard let maximumShardBytes = Self.byteCount(shardSize), maximumShardBytes > 0 else {
            throw ValidationError("--shard-size '\(shardSize)' is not a size such as 2GB, 500MB or 1073741824")
        }
        let inputURL = URL(fileURLWithPath: input)
        let outURL = URL(fileURLWithPath: out, isDirectory: true)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
            throw ValidationError("--in \(input) does not exist")
        }
        let reader = isDirectory.boolValue
            ? try openCheckpoint(directory: inputURL) : try openCheckpoint(file: inputURL)
        let summary = try SafetensorsSharding.write(reader, to: outURL, maximumShardBytes: maximumShardBytes)
        if isDirectory.boolValue, inputURL.standardizedFileURL != outURL.standardizedFileURL {
            for name in Self.companionFiles {
                let source = inputURL.appendingPathComponent(name)
                let target = outURL.appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: source.path),
                    !FileManager.default.fileExists(atPath: target.path)
                else { continue }
                try FileManager.default.copyItem(at: source, to: target)
            }
        }
        let gigabytes = String(format: "%.2f", Double(summary.totalBytes) / 1e9)
        print("wrote \(summary.tensorCount) tensors (\(gigabytes) GB) in \(summary.shardFiles.count) shards to \(out)")
    }

    /// "2GB" -> 2_000_000_000; decimal units as transformers' `max_shard_size`, binary ones with "iB".
    static func byteCount(_ text: String) -> Int? {
        let units: [(suffix: String, scale: Double)] = [
            ("KiB", 1024), ("MiB", 1024 * 1024), ("GiB", 1024 * 1024 * 1024),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("B", 1),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for unit in units where trimmed.uppercased().hasSuffix(unit.suffix.uppercased()) {
            guard let number = Double(trimmed.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)),
                number > 0
            else { return nil }
            return Int(number * unit.scale)
        }
        return Int(trimmed)
    }
}

import Foundation

/// Reads a model's bound parameters from a checkpoint, straight into the model's own buffers (no
/// intermediate copy), after checking that the checkpoint's keys and shapes match the architecture.
public enum WeightLoader {
    /// Prefixes of RadFM checkpoint tensors that exist for training objectives (keyword matching,
    /// segmentation) and play no part in generation (DESIGN section 5).
    public static let unusedPrefixes = [
        "embedding_layer.bert_model.", "embedding_layer.bert_projection_fc.",
        "embedding_layer.transformer_decoder.", "embedding_layer.transformer_decoder_mlp.",
        "embedding_layer.output_upscaling.", "embedding_layer.cls_head.",
    ]

    /// Rotary frequencies are saved as buffers by transformers 4.28 but are recomputed from the config.
    public static let recomputedSuffixes = ["rotary_emb.inv_freq"]

    public static func isUnused(_ key: String) -> Bool {
        unusedPrefixes.contains(where: key.hasPrefix) || recomputedSuffixes.contains(where: key.hasSuffix)
    }

    /// Validates everything before reading anything, so a wrong checkpoint fails in milliseconds with the
    /// full list of problems rather than after minutes of reading.
    public static func load(_ bindings: [ParameterBinding], from reader: CheckpointReader) throws {
        let available = Set(reader.keys)
        var claimed = Set<String>()
        var missing: [String] = []
        var sources: [(binding: ParameterBinding, key: String)] = []

        for binding in bindings {
            let present = binding.allKeys.filter(available.contains)
            guard let source = present.first else {
                missing.append(binding.key)
                continue
            }
            for key in present {
                let found = reader.shape(of: key) ?? []
                if found != binding.shape {
                    throw WeightLoadError.shapeMismatch(key: key, expected: binding.shape, found: found)
                }
                claimed.insert(key)
            }
            sources.append((binding, source))
        }

        let unexpected = reader.keys.filter { !claimed.contains($0) && !isUnused($0) }.sorted()
        if !missing.isEmpty || !unexpected.isEmpty {
            throw WeightLoadError.keysDoNotMatch(missing: missing, unexpected: unexpected)
        }

        for (binding, key) in sources {
            try reader.read(key, into: UnsafeMutableBufferPointer(start: binding.destination, count: binding.count))
            if !binding.isContiguous { spreadRows(of: binding) }
        }
    }

    /// Moves a padded binding's rows, read densely into the start of its storage, out to their stride, in
    /// place (last row first, so no row is overwritten before it moves), and zeroes the pads: no second copy
    /// of the tensor is ever held.
    static func spreadRows(of binding: ParameterBinding) {
        let (rows, length, stride) = (binding.rowCount, binding.rowLength, binding.rowStride)
        let base = binding.destination
        for row in Swift.stride(from: rows - 1, to: 0, by: -1) {
            memmove(base + row * stride, base + row * length, length * MemoryLayout<Float>.stride)
        }
        for row in 0..<rows {
            (base + row * stride + length).update(repeating: 0, count: stride - length)
        }
    }
}

public enum WeightLoadError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    case keysDoNotMatch(missing: [String], unexpected: [String])

    public var description: String {
        switch self {
        case .shapeMismatch(let key, let expected, let found):
            return "checkpoint tensor \(key) has shape \(found), the model expects \(expected)"
        case .keysDoNotMatch(let missing, let unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing \(missing.count) tensors: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty {
                parts.append("unexpected \(unexpected.count) tensors: \(unexpected.joined(separator: ", "))")
            }
            return "checkpoint does not match the model: " + parts.joined(separator: "; ")
        }
    }
}

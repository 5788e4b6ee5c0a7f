import Foundation
import XCTest
import Tensor

/// Runs `ModelReference/radfm_reference.py` (numpy, written independently from the specification) on the
/// tiny model's weights and inputs, and hands back its outputs.
struct ModelReference {
    let vit: [Float]
    let perceiver: [Float]
    let llamaLayer0: [Float]
    let logits: [Float]
    let greedyTokens: [Int32]

    struct Inputs {
        var images: [Tensor]
        var layerInput: Tensor
        var prompt: [Int32]
        var greedySteps: Int
    }

    static func run(checkpoint: DictionaryCheckpoint, inputs: Inputs) throws -> ModelReference {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("radfm-reference-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        var shapes: [String: [Int]] = [:]
        func write(_ name: String, shape: [Int], values: UnsafeBufferPointer<Float>) throws {
            shapes[name] = shape
            try Data(buffer: values).write(to: work.appendingPathComponent(name + ".f32"))
        }
        for (key, tensor) in checkpoint.tensors {
            try tensor.values.withUnsafeBufferPointer { try write(key, shape: tensor.shape, values: $0) }
        }
        var imageNames: [String] = []
        for (index, image) in inputs.images.enumerated() {
            imageNames.append("input.image\(index)")
            try write(imageNames.last!, shape: image.shape, values: UnsafeBufferPointer(image.buffer))
        }
        try write("input.layer", shape: inputs.layerInput.shape, values: UnsafeBufferPointer(inputs.layerInput.buffer))

        let manifest: [String: Any] = [
            "config": try JSONSerialization.jsonObject(with: JSONEncoder().encode(TinyModel.config)),
            "tensors": shapes,
            "tasks": ["images": imageNames, "layer_input": "input.layer", "prompt": inputs.prompt.map(Int.init),
                      "greedy_steps": inputs.greedySteps] as [String: Any],
        ]
        try JSONSerialization.data(withJSONObject: manifest).write(to: work.appendingPathComponent("manifest.json"))

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("ModelReference/radfm_reference.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, work.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceFailure(message: String(data: message, encoding: .utf8) ?? "")
        }

        func output(_ name: String) throws -> [Float] {
            let data = try Data(contentsOf: work.appendingPathComponent(name + ".out.f32"))
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let greedy = try JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("greedy.json")))
        let tokens = ((greedy as? [String: Any])?["tokens"] as? [Int] ?? []).map(Int32.init)
        return ModelReference(vit: try output("vit"), perceiver: try output("perceiver"),
                              llamaLayer0: try output("llama_layer0"), logits: try output("logits"),
                              greedyTokens: tokens)
    }
}

/// The reference script exited with an error (python3 with numpy is a test requirement).
struct ReferenceFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { "numpy reference failed: \(message)" }
}

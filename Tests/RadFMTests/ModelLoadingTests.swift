import XCTest
@testable import RadFM
import Tensor

final class ModelLoadingTests: XCTestCase {
    /// The checkpoint's values of `binding`, read back row by row at the binding's stride, and its pads.
    func loadedRows(_ binding: ParameterBinding) -> (values: [Float], pads: [Float]) {
        var values: [Float] = [], pads: [Float] = []
        for row in 0..<binding.rowCount {
            let start = binding.destination + row * binding.rowStride
            values += UnsafeBufferPointer(start: start, count: binding.rowLength)
            if row < binding.rowCount - 1 {
                pads += UnsafeBufferPointer(start: start + binding.rowLength, count: binding.rowStride - binding.rowLength)
            }
        }
        return (values, pads)
    }

    func testLoadReadsEveryBoundTensorIntoTheModelInBothLayouts() throws {
        let checkpoint = TinyModel.checkpoint()
        for layout in [WeightLayout.contiguous, .inference] {
            let model = RadFMModel(config: TinyModel.config, layout: layout)
            try model.load(from: checkpoint)
            for binding in model.parameters {
                let (values, pads) = loadedRows(binding)
                XCTAssertEqual(values, checkpoint.tensors[binding.key]!.values, "\(layout) \(binding.key)")
                XCTAssertEqual(pads, Array(repeating: 0, count: pads.count), "\(layout) \(binding.key)")
            }
        }
        // The tiny MLP's 56 inputs are padded to 64 floats a row: the spread-out path ran.
        let down = RadFMModel(config: TinyModel.config).parameters.first { $0.key.hasSuffix("layers.0.mlp.down_proj.weight") }!
        XCTAssertEqual(down.rowStride, 64)
    }

    /// Stacked parts land one after another at the padded stride, each part's rows spread in place from
    /// where the reader put them densely, with zeroed pads and nothing of a neighbouring part overwritten.
    func testPaddedStackedProjectionsLoadEveryPartAtItsRows() throws {
        let registry = ParameterRegistry(layout: .inference)
        let shapes = [("a.weight", [3, 2_048]), ("b.weight", [5, 2_048]), ("c.weight", [2, 2_048])]
        let stacked = registry.stackedProjections(shapes)
        XCTAssertEqual(stacked.shape, [10, 2_064])
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (index, (key, shape)) in shapes.enumerated() {
            tensors[key] = (shape, (0..<shape[0] * shape[1]).map { Float(index * 100_000 + $0) })
        }
        try WeightLoader.load(registry.bindings, from: DictionaryCheckpoint(tensors: tensors))
        var row = 0
        for (key, shape) in shapes {
            for r in 0..<shape[0] {
                let loaded = Array(UnsafeBufferPointer(start: stacked.row(row), count: 2_048))
                XCTAssertEqual(loaded, Array(tensors[key]!.values[r * 2_048..<(r + 1) * 2_048]), "\(key) row \(r)")
                XCTAssertEqual(Array(UnsafeBufferPointer(start: stacked.row(row) + 2_048, count: 16)),
                               Array(repeating: 0, count: 16), "\(key) row \(r) pad")
                row += 1
            }
        }
        XCTAssertTrue(registry.bindings.allSatisfy { !$0.isContiguous && $0.rowStride == 2_064 })
    }

    /// Every `Linear` of the vision side (ViT blocks, patch projection, perceiver, fc) keeps padded rows in
    /// the inference layout like the LLM's projections, so its products can run the broadcast kernel;
    /// the position tables, latents and token table stay dense.
    func testInferenceLayoutPadsEveryVisionSideLinear() {
        let linearSuffixes = [".to_qkv.weight", ".to_out.0.weight", ".net.0.weight", ".net.3.weight",
                              "to_patch_embedding.2.weight", ".to_q.weight", ".to_kv.weight", ".to_out.weight",
                              ".1.1.weight", ".1.3.weight", "embedding_layer.fc.weight"]
        let vision = RadFMModel(config: TinyModel.config, layout: .inference).parameters
            .filter { $0.key.hasPrefix("embedding_layer.") }
        let linear = vision.filter { binding in linearSuffixes.contains { binding.key.hasSuffix($0) } }
        // ViT: 4 per block; perceiver: 3 attention and 2 feed-forward per layer; patch projection; fc.
        XCTAssertEqual(linear.count, 4 * TinyModel.config.vision.depth + 5 * TinyModel.config.perceiver.depth + 2)
        for binding in linear {
            XCTAssertEqual(binding.rowStride, BroadcastLinear.paddedRowStride(for: binding.rowLength), binding.key)
        }
        // The tiny widths 24, 40 and 384 do pad (to 32, 48 and 400).
        XCTAssertEqual(Set(linear.filter { !$0.isContiguous }.map(\.rowLength)), [24, 40, 384])
        for binding in vision where !linear.contains(where: { $0.key == binding.key }) {
            XCTAssertTrue(binding.isContiguous, binding.key)
        }
    }

    func testPaddedRowStrideSpreadsRowsOverL1SetsAndKeepsAlreadySpreadWidths() {
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 2_048), 2_064)
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 5_632), 5_648)
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 5_120), 5_136)
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 13_824), 13_840)
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 56), 64)
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 32), 32)
        XCTAssertEqual(BroadcastLinear.paddedRowStride(for: 4_080), 4_080)
    }

    func testStackedProjectionsKeepCheckpointOrder() throws {
        let checkpoint = TinyModel.checkpoint()
        let model = RadFMModel(config: TinyModel.config)
        try model.load(from: checkpoint)
        let hidden = TinyModel.config.text.hiddenSize
        let qkv = model.decoder.layers[1].qkv
        let kRows = (hidden..<2 * hidden).flatMap { Array(UnsafeBufferPointer(start: qkv.row($0), count: hidden)) }
        XCTAssertEqual(kRows, checkpoint.tensors["lang_model.model.layers.1.self_attn.k_proj.weight"]!.values)
    }

    func testContiguousLayoutGivesDenseValuesForTheTrainerAndWriters() {
        for binding in RadFMModel(config: TinyModel.config, layout: .contiguous).parameters {
            XCTAssertTrue(binding.isContiguous, binding.key)
            XCTAssertEqual(binding.values.count, binding.count)
        }
    }

    func testUnusedTensorsAreSkipped() throws {
        let checkpoint = TinyModel.checkpoint()
        for key in TinyModel.unusedTensors.keys { XCTAssertNotNil(checkpoint.shape(of: key)) }
        XCTAssertNoThrow(try RadFMModel(config: TinyModel.config).load(from: checkpoint))
    }

    func testEitherNameOfTheTiedEmbeddingLoadsIt() throws {
        let checkpoint = TinyModel.checkpoint()
        let table = checkpoint.tensors.removeValue(forKey: "embedding_layer.weight")!
        let model = RadFMModel(config: TinyModel.config)
        try model.load(from: checkpoint)
        XCTAssertEqual(model.embedding.tokens.toArray(), table.values)
    }

    func testMissingTensorIsNamed() {
        let checkpoint = TinyModel.checkpoint()
        checkpoint.tensors["lang_model.model.layers.1.mlp.up_proj.weight"] = nil
        XCTAssertThrowsError(try RadFMModel(config: TinyModel.config).load(from: checkpoint)) { error in
            XCTAssertEqual(error as? WeightLoadError, .keysDoNotMatch(
                missing: ["lang_model.model.layers.1.mlp.up_proj.weight"], unexpected: []))
        }
    }

    func testUnexpectedTensorIsNamed() {
        let checkpoint = TinyModel.checkpoint()
        checkpoint.tensors["lang_model.model.layers.2.mlp.up_proj.weight"] = ([1], [0])
        XCTAssertThrowsError(try RadFMModel(config: TinyModel.config).load(from: checkpoint)) { error in
            XCTAssertEqual(error as? WeightLoadError, .keysDoNotMatch(
                missing: [], unexpected: ["lang_model.model.layers.2.mlp.up_proj.weight"]))
        }
    }

    func testMisshapedTensorGivesKeyAndBothShapes() {
        let checkpoint = TinyModel.checkpoint()
        let key = "embedding_layer.vision_encoder.transformer.layers.1.0.fn.to_qkv.weight"
        checkpoint.tensors[key] = ([40, 24], Array(repeating: 0, count: 40 * 24))
        XCTAssertThrowsError(try RadFMModel(config: TinyModel.config).load(from: checkpoint)) { error in
            XCTAssertEqual(error as? WeightLoadError, .shapeMismatch(key: key, expected: [48, 24], found: [40, 24]))
            XCTAssertTrue("\(error)".contains(key) && "\(error)".contains("[48, 24]") && "\(error)".contains("[40, 24]"))
        }
    }

    func testParameterKeysAreRadFMCheckpointNames() {
        let keys = Set(RadFMModel(config: TinyModel.config).parameters.map(\.key))
        for key in [
            "embedding_layer.vision_encoder.to_patch_embedding.1.weight",
            "embedding_layer.vision_encoder.pos_embedding.dep_embed.weight",
            "embedding_layer.vision_encoder.transformer.layers.0.0.fn.to_out.0.bias",
            "embedding_layer.vision_encoder.transformer.layers.1.1.fn.net.3.weight",
            "embedding_layer.perceiver.layers.1.0.norm_media.bias",
            "embedding_layer.perceiver.layers.0.1.3.weight",
            "embedding_layer.perceiver.norm.weight",
            "embedding_layer.fc.bias", "embedding_layer.figure_token_weight",
            "lang_model.model.layers.1.self_attn.o_proj.weight",
            "lang_model.model.layers.0.post_attention_layernorm.weight",
            "lang_model.model.norm.weight", "lang_model.lm_head.weight",
        ] {
            XCTAssertTrue(keys.contains(key), key)
        }
    }
}

import XCTest
@testable import RadFM
import Tensor

final class ModelLoadingTests: XCTestCase {
    func testLoadReadsEveryBoundTensorIntoTheModel() throws {
        let checkpoint = TinyModel.checkpoint()
        let model = RadFMModel(config: TinyModel.config)
        try model.load(from: checkpoint)
        for binding in model.parameters {
            let loaded = Array(UnsafeBufferPointer(start: binding.destination, count: binding.count))
            XCTAssertEqual(loaded, checkpoint.tensors[binding.key]!.values, binding.key)
        }
    }

    func testStackedProjectionsKeepCheckpointOrder() throws {
        let checkpoint = TinyModel.checkpoint()
        let model = RadFMModel(config: TinyModel.config)
        try model.load(from: checkpoint)
        let hidden = TinyModel.config.text.hiddenSize
        let stacked = model.decoder.layers[1].qkv.toArray()
        XCTAssertEqual(Array(stacked[hidden * hidden..<2 * hidden * hidden]),
                       checkpoint.tensors["lang_model.model.layers.1.self_attn.k_proj.weight"]!.values)
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

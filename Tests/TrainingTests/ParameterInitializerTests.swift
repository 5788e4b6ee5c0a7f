@testable import Training
import XCTest

final class ParameterInitializerTests: XCTestCase {
    private let shapes: [String: [Int]] = [
        "embedding_layer.vision_encoder.to_patch_embedding.2.weight": [96, 3072],
        "embedding_layer.vision_encoder.to_patch_embedding.2.bias": [96],
        "embedding_layer.vision_encoder.to_patch_embedding.1.weight": [3072],
        "embedding_layer.vision_encoder.to_patch_embedding.1.bias": [3072],
        "embedding_layer.fc.weight": [64, 96],
        "embedding_layer.fc.bias": [64],
        "lang_model.model.layers.0.self_attn.q_proj.weight": [64, 64],
        "lang_model.model.norm.weight": [64],
    ]

    private func rule(_ key: String) -> ParameterInitializer.Rule {
        ParameterInitializer.rule(for: key, shape: shapes[key] ?? [], shapes: shapes)
    }

    func testLanguageModelMatricesAndTiedTokenTableFollowLlamaInitializerRange() {
        XCTAssertEqual(rule("lang_model.model.layers.0.self_attn.q_proj.weight"), .normal(0.02))
        XCTAssertEqual(ParameterInitializer.rule(for: "embedding_layer.weight", shape: [32000, 64], shapes: shapes),
                       .normal(0.02))
        XCTAssertEqual(rule("lang_model.model.norm.weight"), .constant(1))
    }

    func testVisionLinearWeightsAndBiasesUseTorchDefaultUniformBoundOfFanIn() {
        XCTAssertEqual(rule("embedding_layer.vision_encoder.to_patch_embedding.2.weight"), .uniform(1 / Float(3072).squareRoot()))
        XCTAssertEqual(rule("embedding_layer.vision_encoder.to_patch_embedding.2.bias"), .uniform(1 / Float(3072).squareRoot()))
        XCTAssertEqual(rule("embedding_layer.fc.bias"), .uniform(1 / Float(96).squareRoot()))
    }

    func testLayerNormsStartAsIdentityAndRandnTablesAsStandardNormal() {
        XCTAssertEqual(rule("embedding_layer.vision_encoder.to_patch_embedding.1.weight"), .constant(1))
        XCTAssertEqual(rule("embedding_layer.vision_encoder.to_patch_embedding.1.bias"), .constant(0))
        for key in ["embedding_layer.perceiver.latents", "embedding_layer.figure_token_weight",
                    "embedding_layer.vision_encoder.pos_embedding.row_embed.weight"] {
            XCTAssertEqual(ParameterInitializer.rule(for: key, shape: [32, 96], shapes: shapes), .normal(1), key)
        }
    }

    func testUniformDrawsStayInsideTheirBoundAndCoverIt() {
        var generator = SeededGenerator(seed: 3, stream: 5)
        let draws = (0..<10_000).map { _ in 2 * ParameterInitializer.uniform(&generator) - 1 }
        XCTAssertLessThanOrEqual(draws.map(abs).max() ?? 2, 1)
        XCTAssertGreaterThan(draws.max() ?? 0, 0.99)
        XCTAssertLessThan(draws.min() ?? 0, -0.99)
    }
}

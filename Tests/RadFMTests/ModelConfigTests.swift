import Foundation
import XCTest
import RadFM

final class ModelConfigTests: XCTestCase {
    /// DESIGN section 5's config.json, verbatim.
    static let published = """
        {"model_type":"radfm",
         "vision":{"image_size":512,"frames":512,"patch_size":32,"frame_patch_size":4,"channels":3,
                   "dim":768,"depth":12,"heads":8,"dim_head":64,"mlp_dim":2048},
         "perceiver":{"depth":6,"heads":8,"dim_head":64,"num_latents":32,"ff_mult":4},
         "text":{"hidden_size":5120,"intermediate_size":13824,"num_hidden_layers":40,"num_attention_heads":40,
                 "vocab_size":32000,"rms_norm_eps":1e-6,"max_position_embeddings":2048,"rope_theta":10000.0},
         "max_images":100,"bos_token_id":1,"eos_token_id":2,"pad_token_id":0}
        """

    func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testPublishedConfigGivesRadFMShapes() throws {
        let url = try write(Self.published)
        defer { try? FileManager.default.removeItem(at: url) }
        let config = try RadFMConfig.load(from: url)
        XCTAssertEqual(config.vision.patchDim, 12288)
        XCTAssertEqual(config.vision.spatialPositions, 16)
        XCTAssertEqual(config.vision.depthPositions, 128)
        XCTAssertEqual(config.text.headDim, 128)
        XCTAssertEqual(config.tokensPerImage, 32)
        XCTAssertEqual(config.firstVisualTokenId, 32002)
        XCTAssertEqual(config.eosTokenId, 2)
    }

    func testConfigRoundTripsThroughItsJSONKeys() throws {
        let config = try JSONDecoder().decode(RadFMConfig.self, from: Data(Self.published.utf8))
        let again = try JSONDecoder().decode(RadFMConfig.self, from: JSONEncoder().encode(config))
        XCTAssertEqual(again, config)
    }

    func testVisionWidthThatCannotSplitIntoThreeTablesIsRejectedWithThePath() throws {
        let url = try write(Self.published.replacingOccurrences(of: "\"dim\":768", with: "\"dim\":760"))
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try RadFMConfig.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("vision.dim"), "\(error)")
        }
    }

    func testMissingKeyIsReportedWithThePath() throws {
        let url = try write(Self.published.replacingOccurrences(of: "\"rope_theta\":10000.0", with: "\"theta\":1"))
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertThrowsError(try RadFMConfig.load(from: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("rope_theta"), "\(error)")
        }
    }
}

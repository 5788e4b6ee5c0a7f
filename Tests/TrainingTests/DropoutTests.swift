import Foundation
import RadFM
import Tensor
import Training
import XCTest

final class DropoutTests: XCTestCase {
    func testMaskZeroesAFractionNearPAndScalesTheRestByTheInverseKeepRate() {
        let count = 1 << 20
        let mask = DropoutMask(count: count, probability: 0.1, key: 42)
        var values = [Float](repeating: 1, count: count)
        mask.apply(&values)
        let dropped = values.lazy.filter { $0 == 0 }.count
        // Binomial standard deviation is sqrt(0.1 * 0.9 / 2^20) = 3e-4; 1.5e-3 is five of them.
        XCTAssertEqual(Double(dropped) / Double(count), 0.1, accuracy: 1.5e-3)
        XCTAssertTrue(values.allSatisfy { $0 == 0 || $0 == 1 / Float(0.9) })
    }

    func testSameKeyGivesTheSameMaskAndAnotherKeyAnother() {
        func kept(_ key: UInt64) -> [Float] {
            var values = [Float](repeating: 1, count: 4096)
            DropoutMask(count: values.count, probability: 0.5, key: key).apply(&values)
            return values
        }
        XCTAssertEqual(kept(7), kept(7))
        XCTAssertNotEqual(kept(7), kept(8))
    }

    /// A slice of the mask applies the same elements as the whole mask at those positions.
    func testSliceOfAMaskMatchesTheWholeMaskAtThoseElements() {
        let mask = DropoutMask(count: 1000, probability: 0.4, key: 3)
        var whole = [Float](repeating: 2, count: 1000)
        mask.apply(&whole)
        let source = [Float](repeating: 2, count: 100)
        var slice = [Float](repeating: 0, count: 100)
        mask.apply(source, into: &slice, offset: 500, length: 100)
        XCTAssertEqual(slice, Array(whole[500..<600]))
    }

    func testZeroDropoutGivesExactlyTheLossAndGradientsWithoutDropout() throws {
        func run(_ config: RadFMConfig, draw: DropoutDraw?) throws -> (Double, [[Float]]) {
            let model = RadFMModel(config: config, layout: .contiguous)
            TinyRadFM.randomize(model, seed: 1)
            let parameters = ParameterSet(bindings: model.parameters)
            let graph = try RadFMTrainingGraph(config: config, parameters: parameters)
            let loss = try graph.accumulateGradients(TinyRadFM.batch(), gradientScale: 0.1, dropout: draw)
            return (loss.sum, parameters.parameters.map { Array($0.gradient!) })
        }
        let plain = try run(TinyRadFM.config, draw: nil)
        let zero = try run(TinyRadFM.config(dropout: 0, embDropout: 0), draw: DropoutDraw(seed: 1, step: 3, microBatch: 0))
        XCTAssertEqual(zero.0, plain.0)
        XCTAssertEqual(zero.1, plain.1)
        let on = try run(TinyRadFM.config(dropout: 0.1, embDropout: 0.1), draw: DropoutDraw(seed: 1, step: 3, microBatch: 0))
        XCTAssertNotEqual(on.0, plain.0, "dropout 0.1 changes the loss")
    }

    /// With the masks fixed by a draw, the loss is a smooth function of the weights: every vision tensor's
    /// analytic gradient against central differences (h = 1e-2; tolerance as the whole-model test).
    func testVisionGradientsWithDropoutMatchFiniteDifferences() throws {
        let config = TinyRadFM.config(dropout: 0.2, embDropout: 0.2)
        let model = RadFMModel(config: config, layout: .contiguous)
        TinyRadFM.randomize(model, seed: 6)
        let parameters = ParameterSet(bindings: model.parameters)
        let graph = try RadFMTrainingGraph(config: config, parameters: parameters)
        let batch = TinyRadFM.batch()
        let draw = DropoutDraw(seed: 9, step: 2, microBatch: 1)
        let count = batch.reduce(0) { $0 + $1.supervisedTargetCount }
        let loss = try graph.accumulateGradients(batch, gradientScale: 1 / Float(count), dropout: draw)
        XCTAssertEqual(try graph.loss(batch, dropout: draw).sum, loss.sum, accuracy: 1e-6 * loss.sum, "a draw fixes the masks")
        XCTAssertNotEqual(try graph.loss(batch).sum, loss.sum, "the draw drops something")

        var generator = SeededGenerator(seed: 2)
        let h: Float = 1e-2
        var checkedWithSignal = 0
        for parameter in parameters.parameters where parameter.key.hasPrefix("embedding_layer.vision_encoder.") {
            let largest = parameter.gradient!.indices.max { abs(parameter.gradient![$0]) < abs(parameter.gradient![$1]) }!
            for i in (0..<3).map({ _ in generator.uniform(below: parameter.count) }) + [largest] {
                let original = parameter.values[i]
                parameter.values[i] = original + h
                let plus = try graph.loss(batch, dropout: draw).mean
                parameter.values[i] = original - h
                let minus = try graph.loss(batch, dropout: draw).mean
                parameter.values[i] = original
                let numeric = (plus - minus) / Double(2 * h)
                let analytic = Double(parameter.gradient![i])
                XCTAssertLessThanOrEqual(abs(analytic - numeric), 2e-3 + 5e-2 * abs(numeric),
                                         "\(parameter.key)[\(i)]: analytic \(analytic), numeric \(numeric)")
                if abs(numeric) > 1e-2 { checkedWithSignal += 1 }
            }
        }
        XCTAssertGreaterThan(checkedWithSignal, 10, "the check bites in the vision encoder")
    }

    func testConfigWithoutDropoutKeysDecodesToZeroAndEncodesWithoutThem() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Config/models/radfm-tiny.json").standardized
        let config = try RadFMConfig.load(from: url)
        XCTAssertEqual(config.vision.dropout, 0)
        XCTAssertEqual(config.vision.embDropout, 0)
        let vision = try JSONSerialization.jsonObject(with: JSONEncoder().encode(config.vision)) as! [String: Any]
        XCTAssertNil(vision["dropout"])
        XCTAssertNil(vision["emb_dropout"])
        XCTAssertEqual(Set(vision.keys), ["image_size", "frames", "patch_size", "frame_patch_size", "channels", "dim",
                                          "depth", "heads", "dim_head", "mlp_dim"])
    }

    func testConfigDropoutKeysRoundTripAndOutOfRangeIsRejected() throws {
        let config = TinyRadFM.config(dropout: 0.1, embDropout: 0.05)
        let data = try JSONEncoder().encode(config)
        let vision = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let encoded = vision["vision"] as! [String: Any]
        XCTAssertEqual((encoded["dropout"] as? NSNumber)?.floatValue, 0.1)
        XCTAssertEqual((encoded["emb_dropout"] as? NSNumber)?.floatValue, 0.05)
        XCTAssertEqual(try JSONDecoder().decode(RadFMConfig.self, from: data), config)
        XCTAssertThrowsError(try TinyRadFM.config(dropout: 1, embDropout: 0).validate()) { error in
            XCTAssertTrue("\(error)".contains("vision.dropout"), "\(error)")
        }
    }
}

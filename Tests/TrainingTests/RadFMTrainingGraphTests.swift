import Foundation
import RadFM
import Tensor
import Training
import XCTest

final class RadFMTrainingGraphTests: XCTestCase {
    /// Every trainable tensor of the tiny model: the analytic gradient of four entries against central
    /// differences of the float32 model loss (h = 1e-2; tolerance 2e-3 + 5e-2 |numeric|, set by float32
    /// loss noise / 2h and the O(h^2) truncation).
    func testWholeModelGradientsMatchFiniteDifferencesForEveryModule() throws {
        let model = RadFMModel(config: TinyRadFM.config, layout: .contiguous)
        TinyRadFM.randomize(model, seed: 1)
        let parameters = ParameterSet(bindings: model.parameters)
        let graph = try RadFMTrainingGraph(config: TinyRadFM.config, parameters: parameters)
        let batch = TinyRadFM.batch()
        let count = batch.reduce(0) { $0 + $1.supervisedTargetCount }
        let loss = try graph.accumulateGradients(batch, gradientScale: 1 / Float(count))
        XCTAssertEqual(loss.count, count)

        var generator = SeededGenerator(seed: 2)
        var checkedWithSignal: [String: Int] = [:]
        let h: Float = 1e-2
        for parameter in parameters.parameters {
            // Three random entries, plus the largest analytic one: sparse gradients (token rows the batch
            // never reads) would otherwise be checked only where they are trivially zero.
            let largest = parameter.gradient!.indices.max { abs(parameter.gradient![$0]) < abs(parameter.gradient![$1]) }!
            for i in (0..<3).map({ _ in generator.uniform(below: parameter.count) }) + [largest] {
                let original = parameter.values[i]
                parameter.values[i] = original + h
                let plus = try graph.loss(batch).mean
                parameter.values[i] = original - h
                let minus = try graph.loss(batch).mean
                parameter.values[i] = original
                let numeric = (plus - minus) / Double(2 * h)
                let analytic = Double(parameter.gradient![i])
                XCTAssertLessThanOrEqual(abs(analytic - numeric), 2e-3 + 5e-2 * abs(numeric),
                                         "\(parameter.key)[\(i)]: analytic \(analytic), numeric \(numeric)")
                if abs(numeric) > 1e-2 {
                    let module = parameter.key.split(separator: ".").prefix(2).joined(separator: ".")
                    checkedWithSignal[module, default: 0] += 1
                }
            }
        }
        // The check must have bitten in every part of the network, not only where gradients are large.
        for module in ["embedding_layer.vision_encoder", "embedding_layer.perceiver", "embedding_layer.fc",
                       "embedding_layer.weight", "lang_model.model", "lang_model.lm_head"] {
            XCTAssertGreaterThan(checkedWithSignal[module] ?? 0, 0, "no gradient signal checked in \(module)")
        }
    }

    /// The training forward against the inference model (RadFMModel with KV caches), position by position.
    func testTrainingLossEqualsCrossEntropyOfInferenceLogits() throws {
        let model = RadFMModel(config: TinyRadFM.config, layout: .contiguous)
        TinyRadFM.randomize(model, seed: 3)
        let graph = try RadFMTrainingGraph(config: TinyRadFM.config, parameters: ParameterSet(bindings: model.parameters))
        let example = TinyRadFM.batch()[0]
        let visual = try model.visualTokens(example.images)
        var expected = 0.0
        for t in 0..<example.inputIds.count - 1 where example.labels[t + 1] != -100 {
            let cache = model.makeCache(capacity: 32)
            let logits = try model.forward(tokens: [Array(example.inputIds[...t])], visualTokens: [visual],
                                           caches: [cache]).toArray().map(Double.init)
            let maximum = logits.max()!
            expected += log(logits.map { exp($0 - maximum) }.reduce(0, +)) + maximum - logits[Int(example.labels[t + 1])]
        }
        let loss = try graph.loss([example])
        XCTAssertEqual(loss.count, 4)
        XCTAssertEqual(loss.sum, expected, accuracy: 1e-4 * abs(expected))
    }

    func testFreezingTheLanguageModelStillTrainsVisionThroughIt() throws {
        let model = RadFMModel(config: TinyRadFM.config, layout: .contiguous)
        TinyRadFM.randomize(model, seed: 4)
        let parameters = ParameterSet(bindings: model.parameters, frozenPrefixes: ["lang_model."])
        let graph = try RadFMTrainingGraph(config: TinyRadFM.config, parameters: parameters)
        try graph.accumulateGradients(TinyRadFM.batch(), gradientScale: 1)
        XCTAssertTrue(parameters.parameters.filter { $0.key.hasPrefix("lang_model.") }.allSatisfy(\.isFrozen))
        let patch = parameters["embedding_layer.vision_encoder.to_patch_embedding.2.weight"]!
        XCTAssertGreaterThan(patch.gradient!.map(abs).max()!, 0)
    }

    func testTinyModelOverfitsTwoSamplesToNearZeroLoss() throws {
        let model = RadFMModel(config: TinyRadFM.config, layout: .contiguous)
        let parameters = ParameterSet(bindings: model.parameters)
        var generator = SeededGenerator(seed: 5)
        ParameterInitializer.initialize(parameters, generator: &generator)
        let graph = try RadFMTrainingGraph(config: TinyRadFM.config, parameters: parameters)
        let batch = TinyRadFM.batch()
        let count = batch.reduce(0) { $0 + $1.supervisedTargetCount }
        var optimizer = AdamW()
        var losses: [Double] = []
        for _ in 0..<150 {
            parameters.zeroGradients()
            losses.append(try graph.accumulateGradients(batch, gradientScale: 1 / Float(count)).mean)
            GradientClipping.clip(parameters, maxNorm: 1)
            optimizer.update(parameters, learningRate: 1e-2)
        }
        XCTAssertGreaterThan(losses[0], 3, "starts near ln(40)")
        XCTAssertLessThan(try graph.loss(batch).mean, 0.05, "losses \(losses.suffix(5))")
    }

    func testVisualTokenWithoutItsImageIsATypedError() throws {
        let model = RadFMModel(config: TinyRadFM.config, layout: .contiguous)
        let graph = try RadFMTrainingGraph(config: TinyRadFM.config, parameters: ParameterSet(bindings: model.parameters))
        let example = TrainingExample(inputIds: [1, 42, 2], labels: [-100, -100, 2], images: [])
        XCTAssertThrowsError(try graph.loss([example])) { error in
            XCTAssertEqual(error as? RadFMModelError, .visualTokenOutOfRange(sample: 0, tokenId: 42, visualTokens: 0))
        }
    }
}

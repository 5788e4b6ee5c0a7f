import Foundation
import RadFM
import Tensor
import Training
import XCTest

final class TrainingSessionTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("session-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Six in-memory samples (half with an image) batched two by two, shuffled.
    func dataset() throws -> TrainingDataset {
        let examples = (0..<6).map { i -> EncodedSample in
            let text: [Int32] = [Int32(3 + i), Int32(10 + i), Int32(20 + i % 3), 2]
            let markup: [Int32] = i % 2 == 0 ? [40, 42, 43, 41] : []
            let ids = [1] + markup + text
            let labels = ids.enumerated().map { $0.offset < 1 + markup.count + 1 ? Int32(-100) : $0.element }
            return EncodedSample(inputIds: ids, labels: labels, images: i % 2 == 0 ? [URL(fileURLWithPath: "/img\(i)")] : [])
        }
        let mixture = try DataMixture(counts: [6], weights: [1], names: ["memory"])
        let plan = try BatchPlan(mixture: mixture, depthGroup: [Array(repeating: 8, count: 6)], batchSize: 2,
                                 shuffle: true, seed: 11)
        return TrainingDataset(plan: plan, encoded: [examples]) { sample in
            sample.images.map { url in TinyRadFM.image(seed: UInt64(url.lastPathComponent.count + 7)) }
        }
    }

    func session(options: TrainingOptions, config: RadFMConfig = TinyRadFM.config) throws -> (RadFMModel, TrainingSession) {
        let model = RadFMModel(config: config, layout: .contiguous)
        let parameters = ParameterSet(bindings: model.parameters, frozenPrefixes: ["lang_model.model.layers.0."])
        var generator = SeededGenerator(seed: 21)
        ParameterInitializer.initialize(parameters, generator: &generator)
        let session = try TrainingSession(config: config, parameters: parameters, dataset: try dataset(),
                                          options: options, seed: 11)
        return (model, session)
    }

    func testWholeModelRunResumedFromCheckpointMatchesUninterruptedRunBitForBit() throws {
        try assertResumedRunMatchesUninterruptedRun(config: TinyRadFM.config)
    }

    /// Dropout masks follow (seed, step, micro-batch), so they too continue exactly after a resume.
    func testRunWithDropoutResumedFromCheckpointMatchesUninterruptedRunBitForBit() throws {
        let straightLosses = try assertResumedRunMatchesUninterruptedRun(config: TinyRadFM.config(dropout: 0.1, embDropout: 0.1))
        let (_, plain) = try session(options: Self.resumeOptions)
        XCTAssertNotEqual(try (0..<8).map { _ in try plain.step().loss }, straightLosses, "dropout was applied")
    }

    static let resumeOptions = TrainingOptions(steps: 8, accumulation: 2, learningRate: 3e-3, warmupSteps: 2,
                                               weightDecay: 0.01, maxGradientNorm: 0.5)

    /// Eight steps straight against four, checkpoint, a fresh session restored from it, four more.
    @discardableResult
    func assertResumedRunMatchesUninterruptedRun(config: RadFMConfig, file: StaticString = #filePath,
                                                 line: UInt = #line) throws -> [Double] {
        let options = Self.resumeOptions
        let (straightModel, straight) = try session(options: options, config: config)
        let straightLosses = try (0..<8).map { _ in try straight.step().loss }

        let (_, first) = try session(options: options, config: config)
        var losses = try (0..<4).map { _ in try first.step().loss }
        let checkpoint = folder.appendingPathComponent("checkpoint-4")
        try first.saveCheckpoint(to: checkpoint)
        let (resumedModel, resumed) = try session(options: options, config: config)
        try resumed.restore(from: checkpoint)
        losses += try (0..<4).map { _ in try resumed.step().loss }

        XCTAssertEqual(losses, straightLosses, file: file, line: line)
        XCTAssertEqual(resumed.state, straight.state, file: file, line: line)
        for (a, b) in zip(resumedModel.parameters, straightModel.parameters) {
            XCTAssertEqual(Array(a.values), Array(b.values), a.key, file: file, line: line)
        }
        XCTAssertLessThan(straightLosses.last!, straightLosses.first!, file: file, line: line)
        // The checkpoint is a model directory's weights file: the inference model loads it unchanged.
        let reloaded = RadFMModel(config: config)
        try reloaded.load(from: openCheckpoint(directory: checkpoint))
        return straightLosses
    }

    func testGradientDumpHoldsTrainableGradientsBeforeClippingUnderCheckpointNames() throws {
        let (_, session) = try session(options: TrainingOptions(steps: 1, learningRate: 1e-3, maxGradientNorm: 1e-6))
        let url = folder.appendingPathComponent("grads.safetensors")
        var norm = 0.0
        let report = try session.step { parameters in
            try TrainingSession.writeGradients(parameters, to: url)
            norm = GradientClipping.globalNorm(parameters)
        }
        XCTAssertEqual(report.gradientNorm, norm, accuracy: 1e-9 * norm)
        let reader = try openCheckpoint(file: url)
        XCTAssertTrue(reader.keys.contains("embedding_layer.vision_encoder.to_patch_embedding.2.weight"))
        XCTAssertTrue(reader.keys.contains("lang_model.lm_head.weight"))
        XCTAssertFalse(reader.keys.contains { $0.hasPrefix("lang_model.model.layers.0.") }, "frozen: no gradient")
        var dumpedNorm = 0.0
        for key in reader.keys { dumpedNorm += try reader.readArray(key).reduce(0) { $0 + Double($1) * Double($1) } }
        XCTAssertEqual(dumpedNorm.squareRoot(), norm, accuracy: 1e-6 * norm, "unclipped although max norm is 1e-6")
    }

    func testLogLinesAndLossCurveRecordEachStep() throws {
        let (_, session) = try session(options: TrainingOptions(steps: 3, learningRate: 1e-3))
        let logURL = folder.appendingPathComponent("log.jsonl")
        let log = try TrainingLog(url: logURL)
        var progress = ProgressLine(totalSteps: 3)
        var reports: [StepReport] = []
        for _ in 0..<3 {
            let report = try session.step()
            try log.append(report)
            reports.append(report)
            XCTAssertTrue(progress.line(for: report).hasPrefix("step \(report.step)/3  loss "))
        }
        let lines = try String(contentsOf: logURL, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        XCTAssertEqual(first["step"] as? Int, 1)
        XCTAssertEqual(first["tokens"] as? Int, reports[0].tokens)
        XCTAssertNotNil(first["loss"] as? Double)
        XCTAssertNotNil(first["lr"] as? Double)
        let svg = LossCurveSVG.render(reports.map { ($0.step, $0.loss) })
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("<polyline"))
        let points = svg.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
        XCTAssertEqual(points.split(separator: " ").count, 3, "one plotted point per step")
    }

    func testUpcomingMicroBatchIsTheNextStepsFirstAndIsNotConsumed() throws {
        let (_, session) = try session(options: TrainingOptions(steps: 2, learningRate: 1e-3))
        let data = try dataset()
        let firstBatch = try data.plan.batches(epoch: 0)[0].map(data.example)
        XCTAssertEqual(try session.upcomingMicroBatch().map(\.inputIds), firstBatch.map(\.inputIds))
        XCTAssertEqual(session.state.data, DataPosition())
        try session.step()
        let secondBatch = try data.plan.batches(epoch: 0)[1].map(data.example)
        XCTAssertEqual(try session.upcomingMicroBatch().map(\.inputIds), secondBatch.map(\.inputIds))
    }

    func testHeldOutLossIsEvaluatedWithoutDropout() throws {
        let (_, plain) = try session(options: TrainingOptions(steps: 1, learningRate: 1e-3))
        let (_, dropping) = try session(options: TrainingOptions(steps: 1, learningRate: 1e-3),
                                        config: TinyRadFM.config(dropout: 0.3, embDropout: 0.3))
        let data = try dataset()
        XCTAssertEqual(try HeldOutEvaluation.loss(dropping.graph, on: data), try HeldOutEvaluation.loss(plain.graph, on: data))
    }

    func testHeldOutLossCoversEverySampleOnceWhateverTheBatching() throws {
        let (_, session) = try session(options: TrainingOptions(steps: 1, learningRate: 1e-3))
        let data = try dataset()
        let evaluated = try HeldOutEvaluation.loss(session.graph, on: data)
        let together = try session.graph.loss((0..<6).map { try data.example(SampleID(source: 0, index: $0)) })
        XCTAssertEqual(evaluated.count, together.count)
        XCTAssertEqual(evaluated.sum, together.sum, accuracy: 1e-5 * together.sum)
    }
}

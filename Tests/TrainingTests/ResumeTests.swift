import Foundation
import Training
import XCTest

/// Exact resume on an optimisation problem built from the implemented ops: a two-layer GELU classifier
/// trained with shuffled batches, gradient accumulation, clipping, AdamW and warm-up + cosine.
final class ResumeTests: XCTestCase {
    static let (inputs, hidden, classes, samples) = (5, 8, 4, 13)

    /// The run: parameters, data and every piece of state a checkpoint must carry.
    final class Run {
        let buffers = OptimizerTests.Buffers()
        let parameters: ParameterSet
        var optimizer = AdamW(weightDecay: 0.01)
        let schedule = LearningRateSchedule(peak: 0.05, warmupSteps: 2, totalSteps: 12)
        var stream: BatchStream
        var step = 0
        let data: [(x: [Float], label: Int32)]

        init(initSeed: UInt64) throws {
            var generator = SeededGenerator(seed: initSeed)
            func random(_ count: Int) -> [Float] { (0..<count).map { _ in generator.unitFloat() - 0.5 } }
            parameters = ParameterSet(tensors: [
                ("w1", [hidden, inputs], buffers.make(random(hidden * inputs))), ("b1", [hidden], buffers.make(random(hidden))),
                ("w2", [classes, hidden], buffers.make(random(classes * hidden))), ("b2", [classes], buffers.make(random(classes))),
            ])
            var dataGenerator = SeededGenerator(seed: 99)
            data = (0..<samples).map { _ in
                ((0..<inputs).map { _ in dataGenerator.unitFloat() * 2 - 1 }, Int32(dataGenerator.uniform(below: classes)))
            }
            let mixture = try DataMixture(counts: [samples], weights: [1], names: ["toy"])
            let plan = try BatchPlan(mixture: mixture, depthGroup: [Array(repeating: 4, count: samples)], batchSize: 3,
                                     shuffle: true, seed: 7)
            stream = BatchStream(plan: plan)
        }

        func pointer(_ key: String) -> UnsafeMutablePointer<Float> { parameters[key]!.values.baseAddress! }
        func gradient(_ key: String) -> UnsafeMutablePointer<Float> { parameters[key]!.gradient!.baseAddress! }

        /// One optimisation step over two micro-batches; returns the mean loss.
        func trainStep() -> Double {
            parameters.zeroGradients()
            let micro = [stream.next(), stream.next()]
            let labelCount = micro.reduce(0) { $0 + $1.count }
            var loss = 0.0
            for batch in micro {
                let rows = batch.count
                let x = batch.flatMap { data[$0.index].x }, labels = batch.map { data[$0.index].label }
                var preActivation = [Float](repeating: 0, count: rows * hidden)
                LinearOp.forward(x, rows: rows, inFeatures: inputs, weight: pointer("w1"), outFeatures: hidden,
                                 bias: pointer("b1"), into: &preActivation)
                var activation = [Float](repeating: 0, count: rows * hidden)
                GELUOp.forward(preActivation, count: activation.count, into: &activation)
                var logits = [Float](repeating: 0, count: rows * classes)
                LinearOp.forward(activation, rows: rows, inFeatures: hidden, weight: pointer("w2"), outFeatures: classes,
                                 bias: pointer("b2"), into: &logits)
                var dLogits = [Float](repeating: 0, count: logits.count)
                loss += CrossEntropyOp.forwardBackward(logits, rows: rows, vocabulary: classes, targets: labels,
                                                       scale: 1 / Float(labelCount), dLogits: &dLogits)
                var dActivation = [Float](repeating: 0, count: activation.count)
                LinearOp.backward(dLogits, x: activation, rows: rows, inFeatures: hidden, weight: pointer("w2"),
                                  outFeatures: classes, dx: &dActivation, dWeight: gradient("w2"), dBias: gradient("b2"))
                var dPre = [Float](repeating: 0, count: preActivation.count)
                GELUOp.backward(dActivation, x: preActivation, count: dPre.count, dx: &dPre)
                LinearOp.backward(dPre, x: x, rows: rows, inFeatures: inputs, weight: pointer("w1"), outFeatures: hidden,
                                  dx: nil, dWeight: gradient("w1"), dBias: gradient("b1"))
            }
            GradientClipping.clip(parameters, maxNorm: 0.5)
            optimizer.update(parameters, learningRate: schedule.rate(at: step))
            step += 1
            return loss / Double(labelCount)
        }

        var state: TrainerState {
            TrainerState(step: step, optimizer: optimizer, schedule: schedule, data: stream.position, seed: 7)
        }

        func restore(from directory: URL) throws {
            let state = try TrainingCheckpoint.load(into: parameters, from: directory)
            step = state.step
            optimizer = state.optimizer
            stream = BatchStream(plan: stream.plan, position: state.data)
        }

        var weights: [[Float]] { parameters.parameters.map { Array($0.values) } }
    }

    func testResumedRunMatchesUninterruptedRunBitForBit() throws {
        let steps = 10
        let straight = try Run(initSeed: 1)
        let straightLosses = (0..<steps).map { _ in straight.trainStep() }
        XCTAssertLessThan(straightLosses.last!, straightLosses.first!, "the problem actually trains")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let firstHalf = try Run(initSeed: 1)
        var losses = (0..<steps / 2).map { _ in firstHalf.trainStep() }
        try TrainingCheckpoint.save(firstHalf.parameters, state: firstHalf.state, to: directory)

        let resumed = try Run(initSeed: 2)  // different weights until the checkpoint overwrites them
        try resumed.restore(from: directory)
        XCTAssertEqual(resumed.weights, firstHalf.weights)
        losses += (0..<steps / 2).map { _ in resumed.trainStep() }

        XCTAssertEqual(losses, straightLosses)
        XCTAssertEqual(resumed.weights, straight.weights)
        XCTAssertEqual(resumed.step, straight.step)
        XCTAssertEqual(resumed.stream.position, straight.stream.position)
    }

    func testCheckpointWritesRadFMKeysAndPyTorchOptimizerNames() throws {
        let run = try Run(initSeed: 3)
        _ = run.trainStep()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try TrainingCheckpoint.save(run.parameters, state: run.state, to: directory)
        let state = try JSONDecoder().decode(
            TrainerState.self, from: Data(contentsOf: directory.appendingPathComponent("trainer_state.json")))
        XCTAssertEqual(state, run.state)
        let missingState = directory.appendingPathComponent("absent")
        XCTAssertThrowsError(try TrainingCheckpoint.load(into: run.parameters, from: missingState)) { error in
            guard case TrainingCheckpointError.unreadableState(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("absent/trainer_state.json"))
        }
    }
}

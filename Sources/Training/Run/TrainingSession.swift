import Foundation
import RadFM

/// What one optimisation step did.
public struct StepReport: Codable, Equatable, Sendable {
    /// 1-based number of the step just taken.
    public var step: Int
    /// Mean next-token cross-entropy over the step's supervised labels.
    public var loss: Double
    public var learningRate: Float
    /// Input tokens processed (all ids of all samples of the step).
    public var tokens: Int
    /// Global gradient norm before clipping.
    public var gradientNorm: Double
    public var seconds: Double
    /// Held-out loss after this step, on the steps where it is evaluated.
    public var evaluationLoss: Double?

    enum CodingKeys: String, CodingKey {
        case step, loss, learningRate = "lr", tokens, gradientNorm = "grad_norm", seconds, evaluationLoss = "eval_loss"
    }
}

/// A training run over a model's parameters: batches from the dataset, forward and backward through the
/// whole network, accumulation, clipping, AdamW on the warm-up + cosine schedule. Its state (with the
/// parameters and moments) is what a checkpoint holds; restoring it continues the run bit for bit.
public final class TrainingSession {
    public let parameters: ParameterSet
    public let graph: RadFMTrainingGraph
    public let dataset: TrainingDataset
    public let options: TrainingOptions
    public private(set) var state: TrainerState
    private var stream: BatchStream

    public init(config: RadFMConfig, parameters: ParameterSet, dataset: TrainingDataset, options: TrainingOptions,
                seed: UInt64) throws {
        self.parameters = parameters
        self.graph = try RadFMTrainingGraph(config: config, parameters: parameters)
        self.dataset = dataset
        self.options = options
        state = TrainerState(
            step: 0, optimizer: AdamW(weightDecay: options.weightDecay),
            schedule: LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps,
                                           totalSteps: options.steps),
            data: DataPosition(), seed: seed)
        stream = BatchStream(plan: dataset.plan)
    }

    /// Continues from a checkpoint written by `saveCheckpoint`.
    public func restore(from directory: URL) throws {
        state = try TrainingCheckpoint.load(into: parameters, from: directory)
        stream = BatchStream(plan: dataset.plan, position: state.data)
    }

    public func saveCheckpoint(to directory: URL) throws {
        try TrainingCheckpoint.save(parameters, state: state, to: directory)
    }

    /// The first micro-batch the next step will train on, without consuming it (`--dump-batch`).
    public func upcomingMicroBatch() throws -> [TrainingExample] {
        var lookahead = stream
        return try lookahead.next().map(dataset.example)
    }

    /// One optimisation step. `beforeUpdate` sees the summed gradients before clipping and the update
    /// (where `--dump-grads` reads them).
    @discardableResult
    public func step(beforeUpdate: ((ParameterSet) throws -> Void)? = nil) throws -> StepReport {
        let started = Date()
        parameters.zeroGradients()
        var microBatches: [[TrainingExample]] = []
        for _ in 0..<options.accumulation { microBatches.append(try stream.next().map(dataset.example)) }
        // The mean is over every supervised label of the step, so accumulation equals one large batch.
        let labels = microBatches.joined().reduce(0) { $0 + $1.supervisedTargetCount }
        var loss = BatchLoss(sum: 0, count: 0)
        for (index, batch) in microBatches.enumerated() {
            let draw = DropoutDraw(seed: state.seed, step: state.step, microBatch: index)
            let part = try graph.accumulateGradients(batch, gradientScale: 1 / Float(max(labels, 1)), dropout: draw)
            loss.sum += part.sum
            loss.count += part.count
        }
        try beforeUpdate?(parameters)
        let norm = options.maxGradientNorm.map { GradientClipping.clip(parameters, maxNorm: $0) }
            ?? GradientClipping.globalNorm(parameters)
        let rate = state.schedule.rate(at: state.step)
        state.optimizer.update(parameters, learningRate: rate)
        state.step += 1
        state.data = stream.position
        return StepReport(step: state.step, loss: loss.mean, learningRate: rate,
                          tokens: microBatches.joined().reduce(0) { $0 + $1.inputIds.count }, gradientNorm: norm,
                          seconds: Date().timeIntervalSince(started))
    }

    /// The gradients as a safetensors file keyed by checkpoint names (trainable parameters only: frozen
    /// ones have none).
    public static func writeGradients(_ parameters: ParameterSet, to url: URL) throws {
        var writer = SafetensorsWriter()
        for parameter in parameters.trainable {
            writer.add(parameter.key, shape: parameter.shape, borrowing: UnsafeBufferPointer(parameter.gradient!))
        }
        try writer.write(to: url)
    }
}

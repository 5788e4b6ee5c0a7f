import ArgumentParser
import Foundation
import RadFM
import Tensor
import Training

/// `radfm-train` (DESIGN sections 5 and 6): RadFM's generative training objective on JSONL manifests.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "radfm-train",
        abstract: "Train or fine-tune a RadFM model directory on JSONL manifests of images, questions and answers.")

    enum Initialisation: String, ExpressibleByArgument {
        /// Weights from the model directory's checkpoint.
        case checkpoint
        /// Only config.json is read; weights start from the seed.
        case random
    }

    @Option(help: "Model directory to start from (config.json, tokenizer.model, weights).")
    var model: String

    @Option(name: .customLong("init"), help: "checkpoint (weights of --model) or random (only its config).")
    var initialisation: Initialisation = .checkpoint

    @Option(name: .customLong("data"), help: "A JSONL manifest; repeat to mix several.")
    var manifests: [String]

    @Option(name: .customLong("data-weight"),
            help: "Mixing weight of each --data, in order (default 1 each): whole part repeats, fraction subsamples per epoch.")
    var manifestWeights: [Double] = []

    @Option(help: "Directory for checkpoints and the loss curve.")
    var out: String

    @Option(help: "Optimisation steps to reach (a resumed run continues to this total).")
    var steps: Int = 100

    @Option(help: "Samples per micro-batch.")
    var batchSize: Int = 1

    @Option(help: "Micro-batches summed into each step.")
    var accumulation: Int = 1

    @Option(help: "Peak learning rate.")
    var lr: Float = 1e-4

    @Option(help: "Linear warm-up steps before the cosine decay.")
    var warmupSteps: Int = 0

    @Option(help: "AdamW decoupled weight decay.")
    var weightDecay: Float = 0

    @Option(help: "Global gradient-norm clipping limit; 0 turns clipping off.")
    var maxGradNorm: Double = 1

    @Option(help: "Seed of the data order and of --init random.")
    var seed: UInt64 = 0

    @Flag(help: "Keep manifest order: the first batch is the first samples.")
    var noShuffle = false

    @Option(name: .customLong("freeze"), help: "Freeze parameters whose key starts with this prefix (repeatable), e.g. lang_model.")
    var frozenPrefixes: [String] = []

    @Option(help: "Write the first step's gradients (before clipping and the update) to this .safetensors file.")
    var dumpGrads: String?

    @Option(help: ArgumentHelp(
        "Write the first step's first micro-batch as the model receives it to this .safetensors file, then train.",
        discussion: "Per sample i: input_ids.i and labels.i (float32, exact for ids), images.i [S, 3, H, W, D]. "
            + "Benchmarks/pytorch_train_step.py feeds the same batch to RadFM's PyTorch code."))
    var dumpBatch: String?

    @Option(help: "Append one JSON line per step (step, loss, lr, tokens, grad_norm, seconds).")
    var log: String?

    @Option(name: .customLong("eval"), help: "Held-out JSONL manifest whose loss is reported (at --eval-every and the last step).")
    var evaluationManifest: String?

    @Option(name: .customLong("eval-every"), help: "Evaluate the held-out manifest every this many steps.")
    var evaluationInterval: Int?

    @Option(help: "Also write a checkpoint every this many steps.")
    var checkpointEvery: Int?

    @Option(help: "Continue from a checkpoint directory written by this trainer.")
    var resume: String?

    func validate() throws {
        guard !manifests.isEmpty else { throw ValidationError("at least one --data manifest is needed") }
        guard manifestWeights.isEmpty || manifestWeights.count == manifests.count else {
            throw ValidationError("give one --data-weight per --data (\(manifests.count)), or none")
        }
        guard steps > 0, batchSize > 0, accumulation > 0 else {
            throw ValidationError("--steps, --batch-size and --accumulation must be positive")
        }
        if let checkpointEvery, checkpointEvery <= 0 { throw ValidationError("--checkpoint-every must be positive") }
        if let evaluationInterval, evaluationInterval <= 0 { throw ValidationError("--eval-every must be positive") }
        if evaluationInterval != nil && evaluationManifest == nil { throw ValidationError("--eval-every needs --eval") }
    }

    func run() throws {
        if let openBLASStartupNote { FileHandle.standardError.write(Data((openBLASStartupNote + "\n").utf8)) }
        let modelDirectory = URL(fileURLWithPath: model)
        let config = try RadFMConfig.load(from: modelDirectory.appendingPathComponent("config.json"))
        let tokenizer = try RadFMTokenizer(modelFile: modelDirectory.appendingPathComponent("tokenizer.model"))
        let network = RadFMModel(config: config, layout: .contiguous)
        let parameters = ParameterSet(bindings: network.parameters, frozenPrefixes: frozenPrefixes)
        switch initialisation {
        case .checkpoint:
            try network.load(from: openCheckpoint(directory: modelDirectory))
        case .random:
            var generator = SeededGenerator(seed: seed, stream: 5)
            ParameterInitializer.initialize(parameters, generator: &generator)
        }

        let sources = manifests.enumerated().map { index, path in
            ManifestSource(url: URL(fileURLWithPath: path), weight: manifestWeights.isEmpty ? 1 : manifestWeights[index])
        }
        let encoder = SampleEncoder(tokenizer: tokenizer, config: config)
        let dataset = try TrainingDataset.load(sources, encoder: encoder, imageSize: config.vision.imageSize,
                                               batchSize: batchSize, shuffle: !noShuffle, seed: seed)
        let evaluationData = try evaluationManifest.map { path in
            try TrainingDataset.load([ManifestSource(url: URL(fileURLWithPath: path))], encoder: encoder,
                                     imageSize: config.vision.imageSize, batchSize: batchSize, shuffle: false, seed: seed)
        }
        let options = TrainingOptions(
            steps: steps, accumulation: accumulation, learningRate: lr, warmupSteps: warmupSteps,
            weightDecay: weightDecay, maxGradientNorm: maxGradNorm > 0 ? maxGradNorm : nil)
        let session = try TrainingSession(config: config, parameters: parameters, dataset: dataset, options: options,
                                          seed: seed)
        if let resume { try session.restore(from: URL(fileURLWithPath: resume)) }

        let outDirectory = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
        let logFile = try log.map { try TrainingLog(url: URL(fileURLWithPath: $0)) }
        var progress = ProgressLine(totalSteps: steps)
        var curve: [(step: Int, loss: Double)] = []
        FileHandle.standardError.write(Data(
            "training \(parameters.trainableCount) of \(parameters.parameters.reduce(0) { $0 + $1.count }) parameters\n".utf8))

        if let dumpBatch, session.state.step == 0 {
            try Self.writeBatch(try session.upcomingMicroBatch(), to: URL(fileURLWithPath: dumpBatch))
        }
        while session.state.step < steps {
            let dumpFirstStep = session.state.step == 0 ? dumpGrads.map { URL(fileURLWithPath: $0) } : nil
            var report = try session.step(beforeUpdate: dumpFirstStep.map { url in
                { parameters in try TrainingSession.writeGradients(parameters, to: url) }
            })
            if let evaluationData, report.step == steps || evaluationInterval.map({ report.step % $0 == 0 }) == true {
                report.evaluationLoss = try HeldOutEvaluation.loss(session.graph, on: evaluationData).mean
            }
            try logFile?.append(report)
            curve.append((report.step, report.loss))
            FileHandle.standardError.write(Data((progress.line(for: report) + "\n").utf8))
            if let checkpointEvery, report.step % checkpointEvery == 0, report.step < steps {
                try writeCheckpoint(session, curve: curve, modelDirectory: modelDirectory, outDirectory: outDirectory)
            }
        }
        let final = try writeCheckpoint(session, curve: curve, modelDirectory: modelDirectory, outDirectory: outDirectory)
        print(final.path)
    }

    /// `--dump-batch`. Ids are stored as float32 (exact below 2^24) so the whole batch is one plain
    /// safetensors file any reader opens.
    static func writeBatch(_ batch: [TrainingExample], to url: URL) throws {
        var writer = SafetensorsWriter()
        for (index, example) in batch.enumerated() {
            for (name, ids) in [("input_ids", example.inputIds), ("labels", example.labels)] {
                ids.map(Float.init).withUnsafeBufferPointer { writer.add("\(name).\(index)", shape: [ids.count], data: $0) }
            }
            guard let first = example.images.first else { continue }
            var pixels: [Float] = []
            pixels.reserveCapacity(example.images.count * first.count)
            for image in example.images { pixels += UnsafeBufferPointer(start: image.data, count: image.count) }
            pixels.withUnsafeBufferPointer { writer.add("images.\(index)", shape: [example.images.count] + first.shape, data: $0) }
        }
        try writer.write(to: url)
    }

    /// `OUT/checkpoint-STEP/`: weights, optimizer and trainer state, plus config.json and tokenizer.model so
    /// the folder is a model directory `radfm infer` and a resumed run both accept. The loss curve of this
    /// invocation is refreshed at `OUT/loss.svg`.
    @discardableResult
    func writeCheckpoint(_ session: TrainingSession, curve: [(step: Int, loss: Double)], modelDirectory: URL,
                         outDirectory: URL) throws -> URL {
        let directory = outDirectory.appendingPathComponent("checkpoint-\(session.state.step)")
        try session.saveCheckpoint(to: directory)
        for name in ["config.json", "tokenizer.model"] {
            let target = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
            try FileManager.default.copyItem(at: modelDirectory.appendingPathComponent(name), to: target)
        }
        try LossCurveSVG.render(curve).write(to: outDirectory.appendingPathComponent("loss.svg"), atomically: true,
                                             encoding: .utf8)
        return directory
    }
}

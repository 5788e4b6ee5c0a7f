import Foundation

/// One answered benchmark sample, as written to predictions.jsonl (a file `radfm eval score` reads back).
public struct BenchPrediction: Codable, Equatable, Sendable {
    public let id: String
    public let task: BenchTask
    public let prediction: String
    public let reference: String

    public init(id: String, task: BenchTask, prediction: String, reference: String) {
        self.id = id
        self.task = task
        self.prediction = prediction
        self.reference = reference
    }
}

/// A scored benchmark run: what was run, every prediction, and one `TaskScore` per task present.
public struct BenchRunResult: Codable, Equatable, Sendable {
    public let modelID: String
    public let benchmark: String
    public let maxNewTokens: Int
    public let scores: [TaskScore]
    public let predictions: [BenchPrediction]

    enum CodingKeys: String, CodingKey {
        case modelID = "model_id", benchmark, maxNewTokens = "max_new_tokens", scores
        case predictions
    }

    /// Scores each task over its own rows, tasks in `BenchTask` order.
    public init(modelID: String, benchmark: String, maxNewTokens: Int, predictions: [BenchPrediction],
                options: ScoringOptions = ScoringOptions()) {
        self.modelID = modelID
        self.benchmark = benchmark
        self.maxNewTokens = maxNewTokens
        self.predictions = predictions
        let byTask = Dictionary(grouping: predictions.enumerated(), by: { $0.element.task })
        scores = BenchTask.allCases.compactMap { task in
            guard let rows = byTask[task] else { return nil }
            return TaskScorer.score(rows.map { PredictionRow(id: $0.element.id, prediction: $0.element.prediction,
                                                             reference: $0.element.reference, line: $0.offset + 1) },
                                    task: task, options: options)
        }
    }

    /// Writes predictions.jsonl (one prediction a line) and metrics.json (everything but the predictions)
    /// into `folder`, creating it.
    public func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = Data()
        for prediction in predictions {
            lines.append(try lineEncoder.encode(prediction))
            lines.append(UInt8(ascii: "\n"))
        }
        try lines.write(to: folder.appendingPathComponent("predictions.jsonl"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        try encoder.encode(Metrics(modelID: modelID, benchmark: benchmark, maxNewTokens: maxNewTokens, scores: scores))
            .write(to: folder.appendingPathComponent("metrics.json"))
    }

    /// The shape of metrics.json.
    public struct Metrics: Codable, Equatable, Sendable {
        public let modelID: String
        public let benchmark: String
        public let maxNewTokens: Int
        public let scores: [TaskScore]

        enum CodingKeys: String, CodingKey {
            case modelID = "model_id", benchmark, maxNewTokens = "max_new_tokens", scores
        }
    }
}

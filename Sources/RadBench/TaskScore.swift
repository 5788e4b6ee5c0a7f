import Foundation

/// The scores of one task over one predictions file, in the shape `radfm eval score --format json` prints.
public struct TaskScore: Codable, Equatable, Sendable {
    public struct LabelScore: Codable, Equatable, Sendable {
        public let label: String
        public let precision: Double
        public let recall: Double
        public let f1: Double
        public let support: Int
    }

    public struct Confusion: Codable, Equatable, Sendable {
        /// Row and column order of `matrix`; rows are references, columns predictions.
        public let labels: [String]
        public let matrix: [[Int]]
    }

    public let task: BenchTask
    /// Row counts: `rows` always; `yes_no_rows` and `unparsed_answers` (predictions the yes/no parser read
    /// as unknown) where yes/no answers are scored.
    public let counts: [String: Int]
    /// Metric name to value. BLEU values are on sacrebleu's 0-100 scale, every other metric on 0-1.
    public let metrics: [String: Double]
    /// How the metrics were computed, so that a number is never read without its settings.
    public let settings: [String: String]
    public let perLabel: [LabelScore]?
    public let confusion: Confusion?

    enum CodingKeys: String, CodingKey {
        case task, counts, metrics, settings, confusion
        case perLabel = "per_label"
    }
}

extension TaskScore {
    /// An aligned `name  value` listing for people; JSON is the format for programs.
    public var text: String {
        var lines = ["task: \(task.rawValue)"]
        for (name, value) in counts.sorted(by: { $0.key < $1.key }) { lines.append("  \(name): \(value)") }
        let width = metrics.keys.map(\.count).max() ?? 0
        for (name, value) in metrics.sorted(by: { $0.key < $1.key }) {
            lines.append("  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + Self.format(value))
        }
        if let perLabel {
            lines.append("  per label (precision recall f1 support):")
            for score in perLabel {
                lines.append("    \(score.label): \(Self.format(score.precision)) \(Self.format(score.recall)) "
                             + "\(Self.format(score.f1)) \(score.support)")
            }
        }
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) { lines.append("  [\(name)] \(value)") }
        return lines.joined(separator: "\n")
    }

    private static func format(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        return String(scaled)
    }
}

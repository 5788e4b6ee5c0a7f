/// Accuracy, per-label precision/recall/F1 and their macro averages for closed-set answers (modality,
/// diagnosis labels, parsed yes/no).
///
/// Labels are compared after `ClassificationMetrics.normalizeLabel` (trimmed, inner whitespace collapsed,
/// lowercased), so "CT" and " ct" are one label. The label set is every label seen in references or
/// predictions, sorted; a label never predicted has precision 0 and one never referenced has recall 0
/// (scikit-learn's `zero_division=0`). Macro averages are unweighted means over that set, as scikit-learn's
/// `average='macro'` computes them; the macro F1 is the mean of per-label F1s, not the F1 of the means.
public struct ClassificationMetrics: Equatable, Sendable {
    public struct LabelScore: Equatable, Sendable {
        public let label: String
        public let precision: Double
        public let recall: Double
        public let f1: Double
        /// How many references carry this label.
        public let support: Int
    }

    public let count: Int
    public let accuracy: Double
    public let perLabel: [LabelScore]
    public let macroPrecision: Double
    public let macroRecall: Double
    public let macroF1: Double
    /// Sorted label names; `confusion[r][p]` counts references `labels[r]` predicted as `labels[p]`.
    public let labels: [String]
    public let confusion: [[Int]]

    public init(predictions: [String], references: [String]) {
        precondition(predictions.count == references.count, "one prediction per reference")
        let predicted = predictions.map(Self.normalizeLabel), expected = references.map(Self.normalizeLabel)
        labels = Array(Set(predicted).union(expected)).sorted()
        var index: [String: Int] = [:]
        for (position, label) in labels.enumerated() { index[label] = position }

        var confusion = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)
        for (reference, prediction) in zip(expected, predicted) { confusion[index[reference]!][index[prediction]!] += 1 }
        self.confusion = confusion
        count = predictions.count

        let correct = labels.indices.reduce(0) { $0 + confusion[$1][$1] }
        accuracy = count == 0 ? 0 : Double(correct) / Double(count)
        let labels = self.labels
        let perLabel = labels.indices.map { label in
            let truePositives = confusion[label][label]
            let predictedCount = labels.indices.reduce(0) { $0 + confusion[$1][label] }
            let support = confusion[label].reduce(0, +)
            let precision = predictedCount == 0 ? 0 : Double(truePositives) / Double(predictedCount)
            let recall = support == 0 ? 0 : Double(truePositives) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            return LabelScore(label: labels[label], precision: precision, recall: recall, f1: f1, support: support)
        }
        self.perLabel = perLabel
        let labelCount = Double(max(labels.count, 1))
        macroPrecision = perLabel.reduce(0) { $0 + $1.precision } / labelCount
        macroRecall = perLabel.reduce(0) { $0 + $1.recall } / labelCount
        macroF1 = perLabel.reduce(0) { $0 + $1.f1 } / labelCount
    }

    public static func normalizeLabel(_ label: String) -> String {
        label.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

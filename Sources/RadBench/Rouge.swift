/// Precision, recall and F-measure of one ROUGE comparison, as rouge-score's `Score` tuple holds them.
public struct RougeScore: Equatable, Sendable {
    public let precision: Double
    public let recall: Double
    public let fMeasure: Double

    /// rouge-score's `scoring.fmeasure`, in its order of operations.
    init(precision: Double, recall: Double) {
        self.precision = precision
        self.recall = recall
        fMeasure = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }
}

/// ROUGE-1, ROUGE-2 and ROUGE-L of one prediction against one reference, as
/// `rouge_score.rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer: ...).score(reference,
/// prediction)` computes them (rouge-score 0.1.2).
public struct RougeScores: Equatable, Sendable {
    public let rouge1: RougeScore
    public let rouge2: RougeScore
    public let rougeL: RougeScore
}

/// Scores prediction/reference pairs with rouge-score's rules; tokens are interned so that n-gram and LCS
/// comparisons are integer compares.
public struct RougeScorer {
    private var tokenizer: RougeTokenizer
    private var interner = TokenInterner<UInt8>()
    private var referenceCounts = NGramCounts()
    private var predictionCounts = NGramCounts()

    public init(usesStemmer: Bool) {
        tokenizer = RougeTokenizer(usesStemmer: usesStemmer)
    }

    public mutating func score(prediction: String, reference: String) -> RougeScores {
        let referenceIDs = ids(reference)
        let predictionIDs = ids(prediction)
        return RougeScores(rouge1: ngramScore(reference: referenceIDs, prediction: predictionIDs, order: 1),
                           rouge2: ngramScore(reference: referenceIDs, prediction: predictionIDs, order: 2),
                           rougeL: lcsScore(reference: referenceIDs, prediction: predictionIDs))
    }

    private mutating func ids(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        tokenizer.forEachToken(in: text) { ids.append(interner.id(of: $0)) }
        return ids
    }

    /// rouge-score's `_score_ngrams`: clipped matches over counts, each count floored at one.
    private mutating func ngramScore(reference: [Int32], prediction: [Int32], order: Int) -> RougeScore {
        referenceCounts.recount(reference, orders: order...order)
        predictionCounts.recount(prediction, orders: order...order)
        var overlap = 0
        for (key, count) in referenceCounts.counts { overlap += Int(min(count, predictionCounts[key])) }
        let referenceTotal = max(reference.count - order + 1, 0)
        let predictionTotal = max(prediction.count - order + 1, 0)
        return RougeScore(precision: Double(overlap) / Double(max(predictionTotal, 1)),
                          recall: Double(overlap) / Double(max(referenceTotal, 1)))
    }

    /// rouge-score's `_score_lcs`: zero when either side has no tokens.
    private func lcsScore(reference: [Int32], prediction: [Int32]) -> RougeScore {
        guard !reference.isEmpty && !prediction.isEmpty else { return RougeScore(precision: 0, recall: 0) }
        let length = LongestCommonSubsequence.length(reference, prediction)
        return RougeScore(precision: Double(length) / Double(prediction.count),
                          recall: Double(length) / Double(reference.count))
    }
}

/// Mean precision, recall and F over pairs, the way rouge-score's per-pair results are usually aggregated.
public struct RougeMeans: Equatable, Sendable {
    public let rouge1: RougeScore
    public let rouge2: RougeScore
    public let rougeL: RougeScore

    /// Plain arithmetic means, summed in pair order; every field is 0 when there are no pairs.
    public init(_ scores: [RougeScores]) {
        func mean(_ part: KeyPath<RougeScores, RougeScore>) -> RougeScore {
            guard !scores.isEmpty else { return RougeScore(precision: 0, recall: 0, fMeasure: 0) }
            let count = Double(scores.count)
            return RougeScore(precision: scores.reduce(0) { $0 + $1[keyPath: part].precision } / count,
                              recall: scores.reduce(0) { $0 + $1[keyPath: part].recall } / count,
                              fMeasure: scores.reduce(0) { $0 + $1[keyPath: part].fMeasure } / count)
        }
        rouge1 = mean(\.rouge1)
        rouge2 = mean(\.rouge2)
        rougeL = mean(\.rougeL)
    }
}

extension RougeScore {
    /// A score whose F is given, not derived: a mean of F values is not the F of the mean P and R.
    init(precision: Double, recall: Double, fMeasure: Double) {
        self.precision = precision
        self.recall = recall
        self.fMeasure = fMeasure
    }
}

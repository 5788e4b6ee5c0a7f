import Foundation

/// Corpus BLEU exactly as sacrebleu 2.x computes `BLEU(max_ngram_order: n).corpus_score(hyps, [refs])` with
/// its defaults: `13a` tokenizer, case kept (`lowercase=False`), one reference per hypothesis,
/// `smooth_method='exp'` (mteval-v13a's smoothing), `effective_order=False`. Scores are on sacrebleu's
/// 0-100 scale. Statistics are summed over segments first, then one score is computed for the corpus.
public struct CorpusBLEU {
    /// Matching and total n-gram counts per order, summed over the corpus; index 0 holds unigrams.
    public private(set) var matches = [Int](repeating: 0, count: NGramKey.maxOrder)
    public private(set) var totals = [Int](repeating: 0, count: NGramKey.maxOrder)
    public private(set) var hypothesisLength = 0
    public private(set) var referenceLength = 0

    private var interner = TokenInterner<UInt32>()
    private var hypothesisCounts = NGramCounts()
    private var referenceCounts = NGramCounts()

    public init() {}

    /// Adds one hypothesis/reference segment to the corpus.
    public mutating func add(hypothesis: String, reference: String) {
        let hypothesisIDs = SacreBLEUTokenizer.tokenIDs(hypothesis, interner: &interner)
        let referenceIDs = SacreBLEUTokenizer.tokenIDs(reference, interner: &interner)
        hypothesisLength += hypothesisIDs.count
        referenceLength += referenceIDs.count
        let orders = 1...NGramKey.maxOrder
        hypothesisCounts.recount(hypothesisIDs, orders: orders)
        referenceCounts.recount(referenceIDs, orders: orders)
        for (key, count) in hypothesisCounts.counts {
            let order = key.order
            totals[order - 1] += Int(count)
            matches[order - 1] += Int(min(count, referenceCounts[key]))
        }
    }

    /// BLEU with n-gram orders 1...`maxOrder` (BLEU-1 ... BLEU-4).
    public func score(maxOrder: Int) -> BLEUScore {
        precondition((1...NGramKey.maxOrder).contains(maxOrder), "BLEU order \(maxOrder) is outside 1...\(NGramKey.maxOrder)")
        var brevityPenalty = 1.0
        if hypothesisLength < referenceLength {
            brevityPenalty = hypothesisLength > 0 ? exp(1 - Double(referenceLength) / Double(hypothesisLength)) : 0
        }
        var precisions = [Double](repeating: 0, count: maxOrder)
        let result = { (score: Double) in
            BLEUScore(score: score, precisions: precisions, brevityPenalty: brevityPenalty,
                      hypothesisLength: hypothesisLength, referenceLength: referenceLength)
        }
        // sacrebleu returns 0 outright when no n-gram of any used order matches (its issue #141).
        guard matches[0..<maxOrder].contains(where: { $0 != 0 }) else { return result(0) }

        // The arithmetic follows sacrebleu's expression order so the doubles agree to the last bit.
        var smoothing = 1.0
        for order in 1...maxOrder {
            let total = totals[order - 1]
            if total == 0 { break }
            if matches[order - 1] == 0 {
                smoothing *= 2
                precisions[order - 1] = 100.0 / (smoothing * Double(total))
            } else {
                precisions[order - 1] = 100.0 * Double(matches[order - 1]) / Double(total)
            }
        }
        // sacrebleu's my_log floors log(0) at -9999999999, which makes the score 0 without a NaN.
        let logSum = precisions.reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : log($1)) }
        return result(brevityPenalty * exp(logSum / Double(maxOrder)))
    }
}

/// One corpus BLEU score with the parts sacrebleu reports beside it.
public struct BLEUScore: Equatable, Sendable {
    /// 0-100, as sacrebleu prints it.
    public let score: Double
    /// Modified n-gram precisions, 0-100, index 0 for unigrams.
    public let precisions: [Double]
    public let brevityPenalty: Double
    public let hypothesisLength: Int
    public let referenceLength: Int
}

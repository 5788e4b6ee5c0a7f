/// The five RadBench tasks (DESIGN section 7) and the metrics each is scored with:
///
/// | task       | metrics |
/// |------------|---------|
/// | modality   | accuracy, per-label and macro precision/recall/F1, confusion matrix |
/// | diagnosis  | the same; rows whose reference is "yes"/"no" have their prediction read by `YesNoParser` |
/// | vqa        | exact match, token F1, BLEU-1..4, ROUGE-1/2/L; plus yes/no accuracy on closed rows |
/// | report     | BLEU-1..4, ROUGE-1/2/L |
/// | rationale  | BLEU-1..4, ROUGE-1/2/L |
public enum BenchTask: String, CaseIterable, Codable, Sendable {
    case modality, diagnosis, vqa, report, rationale
}

/// Settings that change metric values; they are echoed in every score so numbers are never compared across
/// different settings by accident.
public struct ScoringOptions: Equatable, Sendable {
    /// rouge-score's `use_stemmer`; off by default, as in rouge-score itself.
    public var rougeUsesStemmer: Bool

    public init(rougeUsesStemmer: Bool = false) {
        self.rougeUsesStemmer = rougeUsesStemmer
    }
}

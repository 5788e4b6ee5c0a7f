/// Scores predictions for one RadBench task (see `BenchTask` for which metrics each task gets).
public enum TaskScorer {
    public static func score(_ rows: [PredictionRow], task: BenchTask, options: ScoringOptions = ScoringOptions()) -> TaskScore {
        switch task {
        case .modality: return closedSet(rows, task: task, readsYesNo: false)
        case .diagnosis: return closedSet(rows, task: task, readsYesNo: true)
        case .vqa: return shortAnswers(rows, options: options)
        case .report, .rationale: return generatedText(rows, task: task, options: options)
        }
    }

    /// Whether a reference is a bare yes/no answer, which makes its row a closed question.
    static func isYesNoReference(_ reference: String) -> Bool {
        let label = ClassificationMetrics.normalizeLabel(reference)
        return label == "yes" || label == "no"
    }

    private static func closedSet(_ rows: [PredictionRow], task: BenchTask, readsYesNo: Bool) -> TaskScore {
        var yesNoRows = 0, unparsed = 0
        let predictions = rows.map { row -> String in
            guard readsYesNo && isYesNoReference(row.reference) else { return row.prediction }
            yesNoRows += 1
            let answer = YesNoParser.parse(row.prediction)
            if answer == .unknown { unparsed += 1 }
            return answer.rawValue
        }
        let metrics = ClassificationMetrics(predictions: predictions, references: rows.map(\.reference))
        var counts = ["rows": rows.count]
        var settings = ["labels": "trimmed, whitespace collapsed, lowercased; macro = unweighted mean over labels seen"]
        if readsYesNo {
            counts["yes_no_rows"] = yesNoRows
            counts["unparsed_answers"] = unparsed
            settings["yes_no"] = "predictions for yes/no references read by YesNoParser; unknown counts as wrong"
        }
        return TaskScore(
            task: task, counts: counts,
            metrics: ["accuracy": metrics.accuracy, "macro_precision": metrics.macroPrecision,
                      "macro_recall": metrics.macroRecall, "macro_f1": metrics.macroF1],
            settings: settings,
            perLabel: metrics.perLabel.map {
                TaskScore.LabelScore(label: $0.label, precision: $0.precision, recall: $0.recall, f1: $0.f1, support: $0.support)
            },
            confusion: TaskScore.Confusion(labels: metrics.labels, matrix: metrics.confusion))
    }

    private static func shortAnswers(_ rows: [PredictionRow], options: ScoringOptions) -> TaskScore {
        var metrics = textOverlap(rows, options: options)
        let count = Double(max(rows.count, 1))
        metrics["exact_match"] = rows.reduce(0.0) {
            $0 + (ShortAnswer.exactMatch(prediction: $1.prediction, reference: $1.reference) ? 1 : 0)
        } / count
        metrics["token_f1"] = rows.reduce(0.0) { $0 + ShortAnswer.tokenF1(prediction: $1.prediction, reference: $1.reference) } / count

        let closed = rows.filter { isYesNoReference($0.reference) }
        var unparsed = 0
        if !closed.isEmpty {
            let correct = closed.reduce(0) { total, row in
                let answer = YesNoParser.parse(row.prediction)
                if answer == .unknown { unparsed += 1 }
                return total + (answer.rawValue == ClassificationMetrics.normalizeLabel(row.reference) ? 1 : 0)
            }
            metrics["closed_accuracy"] = Double(correct) / Double(closed.count)
        }
        var settings = textOverlapSettings(options)
        settings["short_answer"] = "SQuAD normalisation (lowercase, no punctuation, no a/an/the, single spaces); means over rows"
        settings["closed_accuracy"] = "rows whose reference is yes/no; prediction read by YesNoParser"
        return TaskScore(task: .vqa,
                         counts: ["rows": rows.count, "yes_no_rows": closed.count, "unparsed_answers": unparsed],
                         metrics: metrics, settings: settings, perLabel: nil, confusion: nil)
    }

    private static func generatedText(_ rows: [PredictionRow], task: BenchTask, options: ScoringOptions) -> TaskScore {
        TaskScore(task: task, counts: ["rows": rows.count], metrics: textOverlap(rows, options: options),
                  settings: textOverlapSettings(options), perLabel: nil, confusion: nil)
    }

    /// Corpus BLEU-1..4 and mean ROUGE-1/2/L precision, recall and F1.
    private static func textOverlap(_ rows: [PredictionRow], options: ScoringOptions) -> [String: Double] {
        var bleu = CorpusBLEU()
        var rouge = RougeScorer(usesStemmer: options.rougeUsesStemmer)
        var rougeScores: [RougeScores] = []
        rougeScores.reserveCapacity(rows.count)
        for row in rows {
            bleu.add(hypothesis: row.prediction, reference: row.reference)
            rougeScores.append(rouge.score(prediction: row.prediction, reference: row.reference))
        }
        var metrics: [String: Double] = [:]
        for order in 1...4 { metrics["bleu\(order)"] = bleu.score(maxOrder: order).score }
        let means = RougeMeans(rougeScores)
        for (name, score) in [("rouge1", means.rouge1), ("rouge2", means.rouge2), ("rougeL", means.rougeL)] {
            metrics["\(name)_precision"] = score.precision
            metrics["\(name)_recall"] = score.recall
            metrics["\(name)_f1"] = score.fMeasure
        }
        return metrics
    }

    private static func textOverlapSettings(_ options: ScoringOptions) -> [String: String] {
        [
            "bleu": "sacrebleu 2.x corpus BLEU, BLEU-n = BLEU(max_ngram_order=n): tokenize=13a, lowercase=false, "
                + "smooth_method=exp, effective_order=false, one reference; 0-100",
            "rouge": "rouge-score 0.1.2 RougeScorer(['rouge1','rouge2','rougeL'], use_stemmer=\(options.rougeUsesStemmer ? "True" : "False")), "
                + "score(reference, prediction) per row, arithmetic mean over rows",
        ]
    }
}

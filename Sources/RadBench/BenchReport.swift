import Foundation

/// A self-contained HTML page of one benchmark run for people: per-task metric bars, the confusion matrix
/// of closed tasks (modality, diagnosis) and the distribution of per-sample scores. Plots are inline SVG
/// and styles inline, so the file opens offline and can be mailed or archived as one file.
public enum BenchReport {
    public static func html(_ result: BenchRunResult) -> String {
        var body = "<h1>RadBench run</h1>\n<p>model <code>\(escape(result.modelID))</code>, benchmark <code>"
            + "\(escape(result.benchmark))</code>, \(result.predictions.count) samples, max \(result.maxNewTokens) new tokens</p>\n"
        for score in result.scores {
            body += "<section><h2>\(escape(score.task.rawValue))</h2>\n"
            body += "<p>" + score.counts.sorted(by: { $0.key < $1.key }).map { "\(escape($0.key)): \($0.value)" }
                .joined(separator: ", ") + "</p>\n"
            body += metricBars(score)
            if let confusion = score.confusion { body += confusionMatrix(confusion) }
            body += distribution(perSampleScores(result.predictions.filter { $0.task == score.task }, task: score.task),
                                 title: score.task == .modality || score.task == .diagnosis
                                     ? "per-sample correctness" : "per-sample token F1")
            body += "</section>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>RadBench: \(escape(result.modelID))</title>
            <style>body{font-family:sans-serif;margin:2em;color:#222;background:#fff}
            section{margin-bottom:2em}h2{border-bottom:1px solid #ccc}code{background:#f3f3f3}</style>
            </head><body>
            \(body)</body></html>

            """
    }

    /// Closed tasks: 1 for a correct label, 0 otherwise; open tasks: SQuAD token F1, the per-row score
    /// that varies smoothly with partial answers.
    static func perSampleScores(_ predictions: [BenchPrediction], task: BenchTask) -> [Double] {
        predictions.map { row in
            switch task {
            case .modality, .diagnosis:
                let prediction = TaskScorer.isYesNoReference(row.reference) && task == .diagnosis
                    ? YesNoParser.parse(row.prediction).rawValue : ClassificationMetrics.normalizeLabel(row.prediction)
                return prediction == ClassificationMetrics.normalizeLabel(row.reference) ? 1 : 0
            case .vqa, .report, .rationale:
                return ShortAnswer.tokenF1(prediction: row.prediction, reference: row.reference)
            }
        }
    }

    /// One horizontal bar per metric; BLEU (0-100) is drawn on its own scale divided by 100.
    static func metricBars(_ score: TaskScore) -> String {
        let metrics = score.metrics.sorted(by: { $0.key < $1.key })
        let rowHeight = 22, labelWidth = 170, barWidth = 300
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 80)\" "
            + "height=\"\(rowHeight * metrics.count + 4)\" role=\"img\" aria-label=\"metrics\">\n"
        for (index, (name, value)) in metrics.enumerated() {
            let fraction = max(0, min(1, name.hasPrefix("bleu") ? value / 100 : value))
            let y = index * rowHeight + 2
            svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"13\">\(escape(name))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(barWidth)\" height=\"18\" fill=\"#eee\"/>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(Int((fraction * Double(barWidth)).rounded()))\" height=\"18\" fill=\"#3572b0\"/>"
            svg += "<text x=\"\(labelWidth + barWidth + 6)\" y=\"\(y + 15)\" font-size=\"13\">\(String(format: "%.4f", value))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Rows are references, columns predictions; cell shade is the row's share, so small classes show.
    /// Predicted labels that are never a reference (a weak model's free text) share one "other" column,
    /// so that the matrix stays readable however many distinct answers the model gave.
    static func confusionMatrix(_ confusion: TaskScore.Confusion) -> String {
        let referenced = confusion.matrix.indices.filter { confusion.matrix[$0].reduce(0, +) > 0 }
        let others = confusion.labels.indices.filter { !referenced.contains($0) }
        let columns = referenced.map { confusion.labels[$0] } + (others.isEmpty ? [] : ["(other)"])
        let matrix = referenced.map { row in
            referenced.map { confusion.matrix[row][$0] } + (others.isEmpty ? [] : [others.reduce(0) { $0 + confusion.matrix[row][$1] }])
        }
        // margin: room for row labels on the left; top: for the column labels, drawn at 45 degrees.
        let cell = 44, margin = 110, top = 80
        let width = margin + cell * columns.count + 10, height = top + cell * referenced.count + 10
        var svg = "<h3>confusion matrix (rows: reference, columns: prediction)</h3>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"confusion matrix\">\n"
        for (index, label) in columns.enumerated() {
            let shown = escape(String(label.prefix(12))), x = margin + index * cell + cell / 2
            svg += "<text x=\"\(x)\" y=\"\(top - 6)\" font-size=\"12\" text-anchor=\"start\" "
                + "transform=\"rotate(-45 \(x) \(top - 6))\">\(shown)</text>\n"
            if index < referenced.count {
                svg += "<text x=\"\(margin - 6)\" y=\"\(top + index * cell + cell / 2 + 5)\" font-size=\"12\" text-anchor=\"end\">\(shown)</text>"
            }
        }
        for (row, counts) in matrix.enumerated() {
            let total = max(counts.reduce(0, +), 1)
            for (column, value) in counts.enumerated() {
                let share = Double(value) / Double(total)
                let x = margin + column * cell, y = top + row * cell
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" stroke=\"#999\" "
                    + "fill=\"rgb(\(255 - Int(share * 202)),\(255 - Int(share * 141)),\(255 - Int(share * 79)))\"/>"
                svg += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 5)\" font-size=\"13\" text-anchor=\"middle\" "
                    + "fill=\"\(share > 0.6 ? "#fff" : "#222")\">\(value)</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    /// A ten-bin histogram of scores in [0, 1]; the last bin includes 1.
    static func distribution(_ scores: [Double], title: String) -> String {
        var bins = [Int](repeating: 0, count: 10)
        for score in scores { bins[min(9, max(0, Int(score * 10)))] += 1 }
        // base leaves room above the tallest bar for its count.
        let tallest = max(bins.max() ?? 0, 1), width = 36, height = 140, base = height + 24
        var svg = "<h3>\(escape(title))</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width * 10 + 20)\" "
            + "height=\"\(base + 24)\" role=\"img\" aria-label=\"\(escape(title))\">\n"
        for (index, count) in bins.enumerated() {
            let barHeight = count * height / tallest, x = 10 + index * width
            svg += "<rect x=\"\(x)\" y=\"\(base - barHeight)\" width=\"\(width - 4)\" height=\"\(barHeight)\" fill=\"#e08a2c\"/>"
            svg += "<text x=\"\(x + width / 2 - 2)\" y=\"\(base - barHeight - 3)\" font-size=\"11\" text-anchor=\"middle\">\(count)</text>"
            svg += "<text x=\"\(x + width / 2 - 2)\" y=\"\(base + 16)\" font-size=\"11\" text-anchor=\"middle\">\(String(format: "%.1f", Double(index) / 10))</text>\n"
        }
        return svg + "<line x1=\"8\" y1=\"\(base)\" x2=\"\(width * 10 + 12)\" y2=\"\(base)\" stroke=\"#444\"/></svg>\n"
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

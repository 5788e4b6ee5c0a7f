import ArgumentParser
import Foundation
import RadBench

/// `radfm eval`: RadBench evaluation (DESIGN section 7).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "RadBench evaluation.",
        subcommands: [Score.self, Run.self, Import.self])

    /// `radfm eval score`: metrics for predictions made elsewhere.
    struct Score: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score a JSONL file of {\"id\",\"prediction\",\"reference\"} rows for one RadBench task.",
            discussion: """
                modality, diagnosis: accuracy, per-label and macro precision/recall/F1, confusion matrix
                (diagnosis rows with a yes/no reference have their prediction read as yes/no/unknown).
                vqa: exact match and token F1 (SQuAD normalisation), BLEU-1..4, ROUGE-1/2/L, yes/no accuracy.
                report, rationale: BLEU-1..4 (sacrebleu corpus BLEU, 13a, exp smoothing; 0-100) and
                ROUGE-1/2/L (rouge-score, mean over rows; 0-1).
                """)

        enum OutputFormat: String, ExpressibleByArgument { case text, json }

        @Option(help: "The task: \(BenchTask.allCases.map(\.rawValue).joined(separator: ", ")).")
        var task: BenchTask

        @Option(help: "JSONL predictions file, one {\"id\",\"prediction\",\"reference\"} object a line.")
        var predictions: String

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Flag(help: "Porter-stem words before ROUGE (rouge-score's use_stemmer=True).")
        var rougeStemmer = false

        func run() throws {
            let rows = try PredictionFile.load(path: predictions)
            let score = TaskScorer.score(rows, task: task, options: ScoringOptions(rougeUsesStemmer: rougeStemmer))
            switch format {
            case .text:
                print(score.text)
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(score), as: UTF8.self))
            }
        }
    }
}

extension BenchTask: ExpressibleByArgument {}

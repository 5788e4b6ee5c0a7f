import ArgumentParser
import Foundation
import Postgres
import RadBench
import RadFM

extension EvalCommand {
    /// `radfm eval run`: a benchmark manifest through a model directory, then scoring.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer every sample of a RadBench manifest with a model, then score each task.",
            discussion: """
                Writes predictions.jsonl and metrics.json to --out; with --database-url (or RADFM_DATABASE_URL)
                also records the run, its predictions and metrics in PostgreSQL (tables bench_runs,
                bench_predictions, bench_metrics). Progress goes to standard error.
                """)

        @Option(help: "Benchmark manifest (JSONL: id, task, images, question, answer, optional choices).")
        var bench: String

        @Option(help: "Model directory with config.json, tokenizer.model and weights (default: $RADFM_MODEL).")
        var model: String?

        @Option(help: "Model id recorded with the results (default: the model directory's name).")
        var modelID: String?

        @Option(help: "Samples answered together in one generation call.")
        var batchSize: Int = 4

        @Option(help: "Stop each answer after this many generated tokens.")
        var maxNewTokens: Int = 32

        @Option(help: "Folder for predictions.jsonl and metrics.json.")
        var out: String = "radbench-out"

        @Option(help: "Also write an HTML report (per-task scores, confusion matrices, score distributions) here.")
        var report: String?

        @Option(help: "PostgreSQL URL to record the run in (default: $RADFM_DATABASE_URL; none: files only).")
        var databaseURL: String?

        @Flag(help: "Porter-stem words before ROUGE (rouge-score's use_stemmer=True).")
        var rougeStemmer = false

        func validate() throws {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
            guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be positive") }
        }

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            guard let directory = model ?? environment["RADFM_MODEL"] else {
                throw ValidationError("--model is required (or set RADFM_MODEL)")
            }
            let startedAt = Date()
            let samples = try BenchManifest.load(path: bench)
            let modelURL = URL(fileURLWithPath: directory)
            let generator = try RadFMGenerator(modelDirectory: modelURL)
            let predictions = try answer(samples, with: generator)

            let result = BenchRunResult(
                modelID: modelID ?? modelURL.standardizedFileURL.lastPathComponent,
                benchmark: URL(fileURLWithPath: bench).lastPathComponent, maxNewTokens: maxNewTokens,
                predictions: predictions, options: ScoringOptions(rougeUsesStemmer: rougeStemmer))
            try result.write(to: URL(fileURLWithPath: out))
            if let report {
                try Data(BenchReport.html(result).utf8).write(to: URL(fileURLWithPath: report))
            }
            if let url = databaseURL ?? environment["RADFM_DATABASE_URL"], !url.isEmpty {
                let connection = try PostgresConnection(url: url, applicationName: "radfm-eval")
                defer { connection.close() }
                let manifest = try Data(contentsOf: URL(fileURLWithPath: bench))
                let runID = try BenchResultStore(connection: connection).record(
                    result, benchmarkSHA256: SHA256.hex(SHA256.hash(Array(manifest))), startedAt: startedAt)
                print("run_id: \(runID.uuidString.lowercased())")
            }
            for score in result.scores { print(score.text) }
        }

        /// Batches of `batchSize` samples in manifest order; a progress line on standard error after each.
        private func answer(_ samples: [BenchSample], with generator: RadFMGenerator) throws -> [BenchPrediction] {
            var predictions: [BenchPrediction] = []
            predictions.reserveCapacity(samples.count)
            let clock = Date()
            for start in stride(from: 0, to: samples.count, by: batchSize) {
                let batch = samples[start..<min(start + batchSize, samples.count)]
                let requests = try batch.map { sample -> GenerationRequest in
                    do {
                        let images = try InferCommand.loadImages(sample.images.map(\.path), config: generator.model.config)
                        return GenerationRequest(images: images, prompt: sample.question)
                    } catch {
                        throw BenchSampleError(manifest: bench, line: sample.line, id: sample.id, underlying: error)
                    }
                }
                let results = try generator.generate(requests, maxNewTokens: maxNewTokens)
                for (sample, result) in zip(batch, results) {
                    predictions.append(BenchPrediction(id: sample.id, task: sample.task,
                                                       prediction: result.text.trimmingCharacters(in: .whitespacesAndNewlines),
                                                       reference: sample.reference))
                }
                let seconds = Date().timeIntervalSince(clock)
                FileHandle.standardError.write(Data(String(
                    format: "\reval: %ld/%ld samples, %.1f s/sample", predictions.count, samples.count,
                    seconds / Double(predictions.count)).utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            return predictions
        }
    }
}

/// A sample whose images could not be read, named by manifest line and id.
struct BenchSampleError: Error, CustomStringConvertible {
    let manifest: String
    let line: Int
    let id: String
    let underlying: Error

    var description: String { "\(manifest):\(line): sample \"\(id)\": \(underlying)" }
}

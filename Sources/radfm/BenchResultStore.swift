import Foundation
import Postgres
import RadBench

/// Records a scored `radfm eval run` in PostgreSQL (Migrations/0003_radbench.sql): the model, the run,
/// every prediction and every metric value, in one transaction so that a run is either whole or absent.
struct BenchResultStore {
    let connection: PostgresConnection

    /// Returns the new run's id.
    @discardableResult
    func record(_ result: BenchRunResult, benchmarkSHA256: String, startedAt: Date) throws -> UUID {
        let runID = UUID()
        try connection.transaction { connection in
            try connection.execute("""
                INSERT INTO models (model_id, description) VALUES ($1, $2)
                ON CONFLICT (model_id) DO NOTHING
                """, [result.modelID, "registered by radfm eval run"])
            try connection.execute("""
                INSERT INTO bench_runs (run_id, model_id, benchmark, benchmark_sha256, sample_count, max_new_tokens, started_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, [runID, result.modelID, result.benchmark, benchmarkSHA256, result.predictions.count,
                      result.maxNewTokens, startedAt])
            for prediction in result.predictions {
                try connection.execute("""
                    INSERT INTO bench_predictions (run_id, sample_id, task, prediction, reference)
                    VALUES ($1, $2, $3, $4, $5)
                    """, [runID, prediction.id, prediction.task.rawValue, prediction.prediction, prediction.reference])
            }
            for score in result.scores {
                for (metric, value) in score.metrics.sorted(by: { $0.key < $1.key }) {
                    try connection.execute(
                        "INSERT INTO bench_metrics (run_id, task, metric, value) VALUES ($1, $2, $3, $4)",
                        [runID, score.task.rawValue, metric, value])
                }
            }
        }
        return runID
    }
}

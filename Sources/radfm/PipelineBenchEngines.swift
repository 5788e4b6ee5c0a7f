import Foundation
import Pipeline

/// Benchmark instrument, never used by `radfm serve`: an engine that answers every request with the
/// same short text at once and reads no pixels, so `radfm bench pipeline --engine zero` measures what
/// the pipeline itself costs (broker, event decoding, study lookup, the PostgreSQL transaction).
final class ZeroCostEngine: InferenceEngine {
    let modelID = "zero-cost-bench-engine"
    let checkpointSHA256: String? = nil
    let generationSettings = "fixed-text"

    func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>] {
        requests.map { _ in .success(InferenceOutput(text: "No acute abnormality.", promptTokens: 0, generatedTokens: 0, milliseconds: 0)) }
    }
}

/// Wraps the benchmarked engine and adds up the wall time of its calls: the model time that the
/// pipeline's overhead is set against. Calls come from the service's one thread.
final class TimedEngine: InferenceEngine {
    private let inner: InferenceEngine
    /// Wall time inside `run`: for RadFM, pixel decoding, preprocessing and generation.
    private(set) var engineSeconds = 0.0
    /// The part the engine itself reports as generation (the outputs' milliseconds add up to it).
    private(set) var generationSeconds = 0.0

    init(_ inner: InferenceEngine) { self.inner = inner }

    var modelID: String { inner.modelID }
    var checkpointSHA256: String? { inner.checkpointSHA256 }
    var generationSettings: String { inner.generationSettings }

    func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>] {
        let started = Date()
        defer { engineSeconds += Date().timeIntervalSince(started) }
        let results = try inner.run(requests)
        for case .success(let output) in results { generationSeconds += output.milliseconds / 1000 }
        return results
    }
}

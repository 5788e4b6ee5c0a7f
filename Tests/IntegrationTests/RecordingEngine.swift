import Foundation
import Pipeline

/// Test double for the model: answers every task with text derived from the study, so tests can
/// check which study each result belongs to. Lives under Tests/ only; production runs RadFM.
final class RecordingEngine: InferenceEngine, @unchecked Sendable {
    let modelID: String
    let checkpointSHA256: String? = nil
    let generationSettings = "test-double"
    private let lock = NSLock()
    private var calls: [[InferenceRequest]] = []
    /// Studies whose inference fails as bad input (the pipeline must dead-letter them).
    var failingStudies: Set<String> = []

    init(modelID: String = "recording-engine-v1") { self.modelID = modelID }

    var batchSizes: [Int] { lock.lock(); defer { lock.unlock() }; return calls.map(\.count) }

    func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>] {
        lock.lock()
        calls.append(requests)
        lock.unlock()
        return requests.map { request in
            let uid = request.study.event.studyInstanceUID
            if failingStudies.contains(uid) {
                return .failure(StudyInputError(errorClass: "imaging.undecodable", message: "test engine refuses \(uid)"))
            }
            if let label = request.label {
                // Yes/no questions about findings: a fixed answer per label.
                let answer = label == "pneumonia" ? "Yes, there is." : label == "pleural effusion" ? "No." : "It is difficult to say."
                return .success(InferenceOutput(text: answer, promptTokens: 20, generatedTokens: 4, milliseconds: 1))
            }
            let images = request.study.series.reduce(0) { $0 + $1.files.count }
            return .success(InferenceOutput(text: "\(request.task.rawValue) for \(uid) from \(images) images",
                                            promptTokens: 40, generatedTokens: 12, milliseconds: 1))
        }
    }
}

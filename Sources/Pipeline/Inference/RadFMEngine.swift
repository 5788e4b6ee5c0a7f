import Foundation
import Imaging
import Logging
import Postgres
import RadFM
import Tensor

/// The production `InferenceEngine`: RadFM's generator over a model directory. Each study's series
/// become model images once per batch (through Imaging's RadFM preprocessing, `decodeConcurrency`
/// studies at a time), every task of every study in the batch is decoded together, and outputs come
/// back in request order.
public final class RadFMEngine: InferenceEngine {
    public let modelID: String
    public let checkpointSHA256: String?
    public let generationSettings: String
    private let generator: RadFMGenerator
    private let maxNewTokens: Int
    private let images: StudyImageBuilder
    private let decodeConcurrency: Int
    private let logger: Logger

    /// `decodeConcurrency` is `pipeline.decode_concurrency` (`RadFMSettings.decodeConcurrency`).
    public init(modelDirectory: URL, maxNewTokens: Int, logger: Logger,
                decodeConcurrency: Int = RadFMSettings().decodeConcurrency) throws {
        let started = Date()
        generator = try RadFMGenerator(modelDirectory: modelDirectory)
        let checksum = try CheckpointFingerprint.sha256(modelDirectory: modelDirectory)
        checkpointSHA256 = checksum
        modelID = modelDirectory.standardizedFileURL.lastPathComponent + "@" + checksum.prefix(12)
        self.maxNewTokens = maxNewTokens
        generationSettings = "greedy;max_new_tokens=\(maxNewTokens)"
        images = StudyImageBuilder(config: generator.model.config)
        self.decodeConcurrency = decodeConcurrency
        self.logger = logger
        logger.info("model loaded", metadata: ["model": "\(modelID)", "seconds": "\(String(format: "%.1f", Date().timeIntervalSince(started)))"])
    }

    public func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>] {
        // Images once per study, however many tasks ask about it; a study that cannot be decoded
        // fails alone.
        var studies: [LoadedStudy] = []
        var seen: Set<String> = []
        for request in requests where seen.insert(request.study.event.eventID).inserted {
            studies.append(request.study)
        }
        let images = self.images
        let decoded = BoundedParallelMap.map(studies, width: decodeConcurrency) { study in
            Result { try images.images(for: study) }
        }
        var studyImages: [String: Result<[Tensor], StudyInputError>] = [:]
        for (study, result) in zip(studies, decoded) {
            switch result {
            case .success(let tensors): studyImages[study.event.eventID] = .success(tensors)
            case .failure(let error as StudyInputError): studyImages[study.event.eventID] = .failure(error)
            case .failure(let error): throw error
            }
        }
        var runnable: [Int] = []
        var generation: [GenerationRequest] = []
        var results = [Result<InferenceOutput, StudyInputError>?](repeating: nil, count: requests.count)
        for (index, request) in requests.enumerated() {
            switch studyImages[request.study.event.eventID]! {
            case .failure(let error):
                results[index] = .failure(error)
            case .success(let tensors):
                runnable.append(index)
                generation.append(GenerationRequest(images: tensors, prompt: request.prompt))
            }
        }
        if !generation.isEmpty {
            let started = Date()
            let outputs = try generator.generate(generation, maxNewTokens: maxNewTokens)
            // The batch ran as one; each request is charged its share of the wall time.
            let share = Date().timeIntervalSince(started) * 1000 / Double(outputs.count)
            for (index, output) in zip(runnable, outputs) {
                results[index] = .success(InferenceOutput(text: output.text, promptTokens: output.promptTokenIDs.count,
                                                          generatedTokens: output.tokenIDs.count, milliseconds: share))
            }
        }
        return results.map { $0! }
    }
}

/// Identity of a checkpoint: SHA-256 over config.json and the weight files, streamed in chunks, and
/// recorded in `models` so QA can tell which weights produced a result. Hashing a 53 GB checkpoint
/// takes minutes, so the digest is kept in `checkpoint.sha256` beside the weights together with each
/// file's size and modification time, and recomputed only when one of them changed.
enum CheckpointFingerprint {
    static let cacheName = "checkpoint.sha256"

    static func sha256(modelDirectory: URL) throws -> String {
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: modelDirectory.path)
            .filter { $0 == "config.json" || $0.hasSuffix(".safetensors") || $0.hasSuffix(".bin") || $0.hasSuffix(".index.json") }
            .sorted()
        var stamp = ""
        for name in names {
            let attributes = try fm.attributesOfItem(atPath: modelDirectory.appendingPathComponent(name).path)
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            stamp += "\(name) \(size) \(String(format: "%.6f", modified))\n"
        }
        let cache = modelDirectory.appendingPathComponent(cacheName)
        if let cached = try? String(contentsOf: cache, encoding: .utf8), cached.hasSuffix(stamp),
           let digest = cached.split(separator: "\n").first, digest.count == 64 {
            return String(digest)
        }
        var hasher = SHA256.Hasher()
        for name in names {
            hasher.update(Array((name + "\n").utf8))
            guard let handle = FileHandle(forReadingAtPath: modelDirectory.appendingPathComponent(name).path) else {
                throw StudyInputError(errorClass: "model.unreadable", message: "cannot read \(name) in \(modelDirectory.path)")
            }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer($0)) }
            }
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        // A read-only model directory is fine: the digest is then recomputed at each start.
        try? (digest + "\n" + stamp).write(to: cache, atomically: true, encoding: .utf8)
        return digest
    }
}

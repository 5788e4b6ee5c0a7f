import Foundation
import Kafka
import Postgres

/// Turns one batch of consumed messages into outcomes: each message is decoded and validated, its
/// study located and checked (several studies at once, up to `decodeConcurrency`), and all valid
/// studies' tasks go to the engine in one call. Poison messages become dead letters; nothing here
/// touches the database or the broker.
public struct StudyProcessor {
    public let decoder: StudyEventDecoder
    public let loader: StudyLoading
    public let engine: InferenceEngine
    public let prompts: [StudyTask: String]
    public let diagnosisLabels: [String]
    public let diagnosisLabelPrompt: String
    public let decodeConcurrency: Int

    public init(decoder: StudyEventDecoder, loader: StudyLoading, engine: InferenceEngine, prompts: [StudyTask: String],
                diagnosisLabels: [String] = [], diagnosisLabelPrompt: String = "Does the image show signs of {label}?",
                decodeConcurrency: Int = 1) {
        self.decoder = decoder
        self.loader = loader
        self.engine = engine
        self.prompts = prompts
        self.diagnosisLabels = diagnosisLabels
        self.diagnosisLabelPrompt = diagnosisLabelPrompt
        self.decodeConcurrency = decodeConcurrency
    }

    /// Where a batch's processing time went, for the service's timing statistics.
    public struct Timing: Sendable {
        /// Decoding events and locating and reading their studies' files.
        public var loadSeconds = 0.0
        /// The engine call (for RadFM: pixel decoding, preprocessing and generation).
        public var inferenceSeconds = 0.0
    }

    public func process(_ messages: [KafkaMessage]) throws -> [ProcessedMessage] {
        var timing = Timing()
        return try process(messages, timing: &timing)
    }

    public func process(_ messages: [KafkaMessage], timing: inout Timing) throws -> [ProcessedMessage] {
        var outcomes = [EventOutcome?](repeating: nil, count: messages.count)
        var requests: [InferenceRequest] = []
        var owners: [Int] = []          // message index of each request
        let receivedAt = Date()

        var events: [(index: Int, event: StudyEvent)] = []
        for (index, message) in messages.enumerated() {
            do { events.append((index, try decoder.decode(message.value))) } catch let error as EventValidationError {
                outcomes[index] = .deadLettered(DeadLetter(eventID: error.eventID, studyInstanceUID: nil,
                                                           errorClass: "event.\(error.kind.rawValue)", reason: error.reason, payload: message.value))
            }
        }
        // Each study's files are read independently; a failure stays with its own study.
        let loader = self.loader
        let loaded = BoundedParallelMap.map(events, width: decodeConcurrency) { item in
            Result { try loader.load(item.event) }
        }
        for ((index, event), result) in zip(events, loaded) {
            let study: LoadedStudy
            do { study = try result.get() } catch let error as StudyInputError {
                outcomes[index] = .deadLettered(DeadLetter(eventID: event.eventID, studyInstanceUID: event.studyInstanceUID,
                                                           errorClass: error.errorClass, reason: error.message, payload: messages[index].value))
                continue
            }
            for task in event.tasks {
                let prompt = task == .vqa ? (event.question ?? "") : (prompts[task] ?? "")
                requests.append(InferenceRequest(study: study, task: task, prompt: prompt))
                owners.append(index)
                if task == .diagnosis {
                    for label in diagnosisLabels {
                        let question = diagnosisLabelPrompt.replacingOccurrences(of: "{label}", with: label)
                        requests.append(InferenceRequest(study: study, task: .diagnosis, prompt: question, label: label))
                        owners.append(index)
                    }
                }
            }
            outcomes[index] = .completed(event: event, receivedAt: receivedAt, results: [])
        }
        let inferenceStarted = Date()
        timing.loadSeconds += inferenceStarted.timeIntervalSince(receivedAt)
        defer { timing.inferenceSeconds += Date().timeIntervalSince(inferenceStarted) }

        let answers = requests.isEmpty ? [] : try engine.run(requests)
        precondition(answers.count == requests.count, "engine \(engine.modelID) returned \(answers.count) results for \(requests.count) requests")
        var results: [Int: [TaskResult]] = [:]
        for (request, (owner, answer)) in zip(requests, zip(owners, answers)) {
            guard case .completed(let event, _, _) = outcomes[owner] else { continue }   // already poisoned by an earlier task
            switch answer {
            case .success(let output):
                let hash = SHA256.hex(request.prompt + "\n" + engine.generationSettings)
                results[owner, default: []].append(TaskResult(task: request.task, prompt: request.prompt, promptHash: hash, output: output,
                                                              finding: request.label.map { Finding(label: $0, answer: output.text) }))
            case .failure(let error):
                outcomes[owner] = .deadLettered(DeadLetter(eventID: event.eventID, studyInstanceUID: event.studyInstanceUID,
                                                           errorClass: error.errorClass, reason: error.message, payload: messages[owner].value))
            }
        }
        return messages.enumerated().map { index, message in
            let position = MessagePosition(topic: message.topic, partition: message.partition, offset: message.offset)
            switch outcomes[index]! {
            case .completed(let event, let receivedAt, _):
                return ProcessedMessage(position: position, outcome: .completed(event: event, receivedAt: receivedAt, results: results[index] ?? []))
            case .deadLettered(var letter):
                letter.key = message.key
                return ProcessedMessage(position: position, outcome: .deadLettered(letter))
            }
        }
    }
}

import Foundation
import Kafka

/// A batch, already polled, being decoded, loaded and run through the engine on its own thread. The
/// next batch runs while the service commits the batch before it: reading studies then overlaps
/// PostgreSQL's commit instead of following it. The service keeps at most one ahead, and commits it
/// only after the batch before it, so offsets still advance in order. Every batch runs here, so the
/// service's thread keeps serving the consumer while the model works.
///
/// Only processing happens here; the broker, the database and rebalance handling stay on the
/// service's thread. `messages` shrinks when a rebalance revokes some of its partitions; `wait()`
/// returns outcomes for every message it started with, and the service keeps only those still listed.
final class BackgroundBatch: @unchecked Sendable {
    private(set) var messages: [KafkaMessage]
    private let finished = DispatchSemaphore(value: 0)
    // Written once by the worker thread before `finished` is signalled, read only after waiting on it.
    private var outcome: Result<[ProcessedMessage], Error>?
    private var timing = StudyProcessor.Timing()
    private var waited = false

    init(messages: [KafkaMessage], processor: StudyProcessor) {
        self.messages = messages
        let batch = messages
        let thread = Thread { [self] in
            var timing = StudyProcessor.Timing()
            let result = Result { try processor.process(batch, timing: &timing) }
            self.timing = timing
            self.outcome = result
            self.finished.signal()
        }
        thread.name = "radfm-batch"
        thread.start()
    }

    /// Forgets the messages of partitions this consumer no longer owns.
    func drop(where revoked: (KafkaMessage) -> Bool) {
        messages.removeAll(where: revoked)
    }

    /// Blocks until processing finished, calling `meanwhile` every `interval` until then; the outcomes
    /// and where the time went. Call at most once. If `meanwhile` throws, the worker is still waited
    /// for before the error goes on: it must not outlive the caller's handling of it.
    func wait(every interval: DispatchTimeInterval, meanwhile: () throws -> Void) throws
        -> (outcomes: [ProcessedMessage], timing: StudyProcessor.Timing) {
        precondition(!waited, "a batch is collected once")
        waited = true
        do {
            while finished.wait(timeout: .now() + interval) == .timedOut { try meanwhile() }
        } catch {
            finished.wait()
            throw error
        }
        return (try outcome!.get(), timing)
    }

    /// Waits for the worker thread without using its result: a dropped batch must not still be calling
    /// the engine when the service stops or processes the next one.
    func discard() {
        guard !waited else { return }
        waited = true
        finished.wait()
    }
}

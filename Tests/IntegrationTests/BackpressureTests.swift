import Foundation
import Pipeline
import XCTest

/// A model slower than the broker: the service keeps polling while each batch runs, pauses fetching
/// once a whole next batch is waiting, and keeps its partitions even when one model call lasts longer
/// than librdkafka's `max.poll.interval.ms`.
final class BackpressureTests: XCTestCase {
    func testModelCallsLongerThanTheMaxPollIntervalCommitEveryBatchOnceAndPauseFetching() throws {
        let harness = try PipelineHarness(partitions: 2)
        try harness.makeStudies(count: 8)
        try harness.publish(harness.studies.map { harness.event(for: $0) })
        harness.settings.batchSize = 4
        // The smallest interval the broker's minimum session timeout allows. A member that does not
        // poll for this long is dropped from the group, loses its partitions and its uncommitted
        // batch, and (the model being just as slow the next time) never commits anything.
        harness.settings.kafkaSettings["session.timeout.ms"] = "6000"
        harness.settings.kafkaSettings["max.poll.interval.ms"] = "6000"
        let engine = SlowEngine(secondsPerCall: 7.5)
        let consumer = harness.startConsumer(engine: engine)
        try harness.wait(for: "8 jobs", timeout: 90) { try harness.count("SELECT count(*) AS n FROM jobs") >= 8 }
        consumer.shutdown()

        XCTAssertEqual(engine.recorded.batchSizes.count, 2, "each batch of 4 ran once: \(engine.recorded.batchSizes)")
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM jobs"), 8)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'job.duplicate_delivery'"), 0)
        // All eight events arrive in the first fetch: while the first batch runs, the second is
        // gathered and fetching pauses.
        XCTAssertGreaterThanOrEqual(consumer.service.statistics.backpressurePauses, 1)
        XCTAssertEqual(consumer.service.statistics.revocations, 1, "the partitions were given up only when the consumer stopped")
        XCTAssertTrue(try AuditLog.verify(harness.db).isIntact)
    }
}

/// The recording test double, slowed down to a model's pace.
private final class SlowEngine: InferenceEngine, @unchecked Sendable {
    let recorded = RecordingEngine()
    let secondsPerCall: Double
    var modelID: String { recorded.modelID }
    var checkpointSHA256: String? { recorded.checkpointSHA256 }
    var generationSettings: String { recorded.generationSettings }

    init(secondsPerCall: Double) { self.secondsPerCall = secondsPerCall }

    func run(_ requests: [InferenceRequest]) throws -> [Result<InferenceOutput, StudyInputError>] {
        Thread.sleep(forTimeInterval: secondsPerCall)
        return try recorded.run(requests)
    }
}

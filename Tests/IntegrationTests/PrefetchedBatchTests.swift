import Foundation
import Pipeline
import Postgres
import XCTest

/// A batch processed ahead while the batch before it commits is committed after it, and never when
/// the service stops first: it and everything after it in its partitions are left to the restart.
final class PrefetchedBatchTests: XCTestCase {
    func testStopAfterTheFirstCommitDropsTheBatchProcessedAheadAndTheRestartCompletesEverythingOnce() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 24)
        try harness.publish(harness.studies.map { harness.event(for: $0) })
        harness.settings.batchSize = 8

        // All 24 events are on the broker before the consumer starts, so its first fetch brings more
        // than a batch: the second batch is already fetched, and processed ahead, when the first commits.
        let engine = RecordingEngine()
        let url = harness.databaseURL
        let service = StudyConsumerService(settings: harness.settings, engine: engine, logger: harness.logger) {
            try PostgresConnection(url: url, applicationName: "radfm-it-serve")
        }
        let stop = StopSignal()
        service.onBatchCommitted = { _ in stop.request() }
        try service.run(stop: stop)

        XCTAssertEqual(service.statistics.batches, 1)
        XCTAssertEqual(engine.batchSizes.count, 2, "the second batch was processed ahead: \(engine.batchSizes)")
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM jobs"), 8)
        XCTAssertEqual(try harness.count("SELECT coalesce(sum(next_offset), 0)::int AS n FROM consumer_offsets WHERE topic = $1", [harness.topic]), 8)

        let consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "24 jobs") { try harness.count("SELECT count(*) AS n FROM jobs") >= 24 }
        consumer.shutdown()
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM jobs"), 24)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 48)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'job.completed'"), 24)
        XCTAssertEqual(try harness.count("SELECT coalesce(sum(next_offset), 0)::int AS n FROM consumer_offsets WHERE topic = $1", [harness.topic]), 24)
        XCTAssertTrue(try AuditLog.verify(harness.db).isIntact)
    }
}

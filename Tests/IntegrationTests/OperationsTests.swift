import Foundation
import Kafka
import Pipeline
import Postgres
import XCTest

/// What operators do around the pipeline: replay dead letters after a fix, scrape metrics, probe health.
final class OperationsTests: XCTestCase {
    func testDeadLetterReplayAfterTheMissingFileIsRestoredCompletesTheStudy() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 2)
        let study = harness.studies[1]
        let file = harness.storageRoot.appendingPathComponent(study.series[0].instances[0])
        let parked = file.appendingPathExtension("parked")
        try FileManager.default.moveItem(at: file, to: parked)
        try harness.publish(harness.studies.map { harness.event(for: $0) })

        var consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "1 job and 1 dead letter") {
            try harness.count("SELECT count(*) AS n FROM jobs") == 1 && harness.count("SELECT count(*) AS n FROM dead_letters") == 1
        }
        consumer.shutdown()
        XCTAssertEqual(try harness.db.query("SELECT error_class FROM dead_letters")[0]["error_class"], "storage.missingFile")

        try FileManager.default.moveItem(at: parked, to: file)
        let replayer = DeadLetterReplayer(db: harness.db)
        let letters = try replayer.select(.init(errorClass: "storage.missingFile"))
        XCTAssertEqual(letters.count, 1)
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: harness.brokers), logger: harness.logger)
        XCTAssertEqual(try replayer.replay(letters, to: harness.topic, producer: producer), 1)
        producer.close()
        XCTAssertEqual(try replayer.select(.init(errorClass: "storage.missingFile")).count, 0, "a replayed letter is not selected twice")

        consumer = harness.startConsumer(engine: RecordingEngine())
        try harness.wait(for: "the replayed study to complete") { try harness.count("SELECT count(*) AS n FROM jobs") == 2 }
        consumer.shutdown()
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results WHERE study_instance_uid = $1", [study.studyInstanceUID]), 2)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'dead_letter.replayed'"), 1)
        XCTAssertTrue(try AuditLog.verify(harness.db).isIntact)
    }

    func testMetricsAndProbesReportWhatTheConsumerDid() throws {
        let harness = try PipelineHarness(partitions: 1)
        try harness.makeStudies(count: 3)
        var bad = harness.event(for: harness.studies[2])
        bad.series[0].instances = ["missing/IM0001.dcm"]
        try harness.publish([harness.event(for: harness.studies[0]), harness.event(for: harness.studies[1]), bad])

        let metrics = ServiceMetrics()
        let health = ServiceHealth()
        let server = try ObservabilityServer(address: "127.0.0.1:0", metrics: metrics, health: health)
        defer { server.stop() }
        XCTAssertEqual(try get(server.port, "/readyz").status, 503, "not ready before the consumer runs")

        let url = harness.databaseURL
        let service = StudyConsumerService(settings: harness.settings, engine: RecordingEngine(), logger: harness.logger,
                                           metrics: metrics, health: health) { try PostgresConnection(url: url) }
        let consumer = RunningConsumer(service: service)
        try harness.wait(for: "2 jobs and 1 dead letter") {
            try harness.count("SELECT count(*) AS n FROM jobs") == 2 && harness.count("SELECT count(*) AS n FROM dead_letters") == 1
        }
        XCTAssertEqual(try get(server.port, "/readyz").status, 200)
        XCTAssertEqual(try get(server.port, "/healthz").status, 200)
        // The gauges are set just after the commit that the database already shows.
        var scrape = ""
        try harness.wait(for: "the metrics to catch up with the database", timeout: 10) {
            scrape = try get(server.port, "/metrics").body
            return scrape.contains("radfm_jobs_completed_total 2") && scrape.contains("radfm_consumer_lag{")
        }
        consumer.shutdown()
        XCTAssertTrue(scrape.contains("radfm_jobs_completed_total 2"), scrape)
        XCTAssertTrue(scrape.contains("radfm_events_consumed_total 3"), scrape)
        XCTAssertTrue(scrape.contains("radfm_events_failed_total{reason=\"storage.missingFile\"} 1"), scrape)
        XCTAssertTrue(scrape.contains("radfm_batch_size_count"), scrape)
        XCTAssertTrue(scrape.contains("radfm_consumer_lag{topic=\"\(harness.topic)\",partition=\"0\"} 0"), scrape)
        XCTAssertEqual(try get(server.port, "/nope").status, 404)
    }

    private func get(_ port: Int, _ path: String) throws -> (status: Int, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sys, urllib.request, urllib.error
            try:
                r = urllib.request.urlopen("http://127.0.0.1:\(port)\(path)", timeout=5); print(r.status); print(r.read().decode())
            except urllib.error.HTTPError as e:
                print(e.code); print(e.read().decode())
            """]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let status = Int(text.prefix { $0 != "\n" }) ?? -1
        return (status, String(text.drop { $0 != "\n" }.dropFirst()))
    }
}

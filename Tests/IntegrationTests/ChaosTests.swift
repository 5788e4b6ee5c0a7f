import Foundation
import Pipeline
import Postgres
import XCTest

/// Crashes, restarts and outages against the real servers, with `radfm serve` processes running the
/// real (tiny, random-weight) RadFM engine. Size: RADFM_CHAOS_EVENTS (default 1000) and
/// RADFM_CHAOS_KILLS (default 20).
///
/// The test broker (noida-db 0.2.3) never expires the membership of a consumer that died without
/// leaving its group (checked with kcat: no rebalance 60 s after a SIGKILL with session.timeout.ms
/// 6000), where Apache Kafka would after the session timeout. So the killed-and-restarted consumer
/// uses static membership (group.instance.id), which both brokers honour: the restarted process takes
/// the dead one's place at once.
final class ChaosTests: XCTestCase {
    func testKillsRestartsAndOutagesLoseNothingAndDuplicateNothing() throws {
        let environment = ProcessInfo.processInfo.environment
        let total = Int(environment["RADFM_CHAOS_EVENTS"] ?? "") ?? 1000
        let kills = Int(environment["RADFM_CHAOS_KILLS"] ?? "") ?? 20
        let restartServers = environment["RADFM_TEST_SERVERS_RESTARTABLE"] == "1"
        let poisonCount = max(1, total / 20)
        let validCount = total - poisonCount

        let harness = try PipelineHarness(partitions: 3)
        let model = try TinyModel.directory()
        try harness.makeStudies(count: validCount)
        var generator = SeededGenerator(seed: 20261128)
        var payloads = harness.studies.map { (key: $0.studyInstanceUID, value: harness.event(for: $0).encoded()) }
        for i in 0..<poisonCount {
            var event = harness.event(for: harness.studies[i % harness.studies.count])
            let payload: [UInt8]
            switch i % 4 {
            case 0: payload = Array("{\"schema\": \"radfm.study-event/v1\", \"event_id\": \"poison-\(i)\"".utf8)
            case 1: event.series[0].instances = ["../outside-\(i).dcm"]; payload = event.encoded()
            case 2: event.series[0].instances = ["missing/\(i).dcm"]; payload = event.encoded()
            default:
                event.studyInstanceUID = "1.2.3.999.\(i)"   // files of another study: refused
                payload = event.encoded()
            }
            payloads.append((key: "poison-\(i)", value: payload))
        }
        payloads.shuffle(using: &generator)
        try harness.publish(payloads)

        var consumer: ServeProcess?
        var logs: [String] = []
        for round in 1...kills {
            consumer = try ServeProcess(harness: harness, model: model, name: "round\(round)", staticMember: "chaos-consumer")
            Thread.sleep(forTimeInterval: Double.random(in: 1.0...4.0, using: &generator))
            if restartServers && round == kills / 3 {
                try Self.restart("postgres")
            }
            if restartServers && round == 2 * kills / 3 {
                try Self.restart("kafka")
            }
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...2.0, using: &generator))
            consumer?.kill()
            logs.append(consumer?.log ?? "")
        }
        consumer = try ServeProcess(harness: harness, model: model, name: "final", staticMember: "chaos-consumer")
        try harness.wait(for: "\(validCount) jobs and \(poisonCount) dead letters", timeout: 600) {
            try harness.count("SELECT count(*) AS n FROM jobs") == validCount
                && harness.count("SELECT count(*) AS n FROM dead_letters") == poisonCount
        }
        consumer?.terminate()
        if testRun?.hasSucceeded == false, let last = consumer?.log { print(last.suffix(4000)) }

        XCTAssertEqual(try harness.count("SELECT count(DISTINCT study_instance_uid) AS n FROM jobs"), validCount, "every valid study once")
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 2 * validCount, "one result set per valid event")
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM (SELECT study_instance_uid, task FROM results GROUP BY 1, 2 HAVING count(*) > 1) d"), 0)
        XCTAssertEqual(try harness.count("SELECT count(DISTINCT (kafka_partition, kafka_offset)) AS n FROM dead_letters"), poisonCount)
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM audit_log WHERE action = 'job.completed'"), validCount)
        XCTAssertEqual(try harness.count("SELECT coalesce(sum(next_offset), 0)::int AS n FROM consumer_offsets WHERE topic = $1", [harness.topic]),
                       total, "nothing left unprocessed")
        let audit = try AuditLog.verify(harness.db)
        XCTAssertTrue(audit.isIntact, audit.problem ?? "")
        print("chaos: \(total) events (\(poisonCount) poison), \(kills) SIGKILLs, server restarts: \(restartServers)")
    }

    /// The stopping consumer leaves the group on SIGTERM; a SIGKILLed dynamic member would be noticed
    /// only after the session timeout, which the test broker does not enforce (see above).
    func testTwoConsumersShareSixPartitionsAndTheSurvivorTakesOverWithoutDuplicates() throws {
        let harness = try PipelineHarness(partitions: 6)
        let model = try TinyModel.directory()
        try harness.makeStudies(count: 240)
        try harness.publish(harness.studies.map { harness.event(for: $0) })

        let first = try ServeProcess(harness: harness, model: model, name: "a", batchSize: 4)
        let second = try ServeProcess(harness: harness, model: model, name: "b", batchSize: 4)
        try harness.wait(for: "both consumers to commit work", timeout: 120) {
            first.log.contains("batch committed") && second.log.contains("batch committed")
        }
        first.terminate()
        try harness.wait(for: "the survivor to finish all 240 studies", timeout: 300) {
            try harness.count("SELECT count(*) AS n FROM jobs") == 240
        }
        second.terminate()
        func largestAssignment(_ log: String) -> Int {
            log.split(separator: "\n").filter { $0.contains("\"msg\":\"partitions assigned\"") }
                .map { line in (0..<6).filter { line.contains("\(harness.topic)[\($0)]\\\"") }.count }.max() ?? 0
        }
        XCTAssertEqual(largestAssignment(second.log), 6, "the survivor took over every partition")
        XCTAssertEqual(try harness.count("SELECT count(*) AS n FROM results"), 480)
        XCTAssertEqual(try harness.count("SELECT coalesce(sum(next_offset), 0)::int AS n FROM consumer_offsets WHERE topic = $1", [harness.topic]), 240)
    }

    private static func restart(_ server: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [PipelineHarness.repositoryRoot.appendingPathComponent("Deploy/local/restart.sh").path, server]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "ChaosTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "restart.sh \(server) failed"])
        }
    }
}

/// Reproducible randomness for the chaos schedule (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Kafka
import TestSupport
import XCTest

/// Against the real broker named by RADFM_TEST_KAFKA_BROKERS (skipped without it, failing in CI).
final class KafkaBrokerIntegrationTests: XCTestCase {
    private var configuration: KafkaConfiguration!

    override func setUpWithError() throws {
        configuration = KafkaConfiguration(brokers: try KafkaTestBroker.brokers())
    }

    private func makeAdmin() throws -> KafkaAdmin {
        try KafkaAdmin(configuration: configuration, logger: .kafkaTest("admin"))
    }

    private func makeConsumer(
        group: String, topic: String, listener: KafkaRebalanceListener?, assignor: String = "range,roundrobin"
    ) throws -> KafkaConsumer {
        var settings = configuration!
        settings.settings.merge([
            "session.timeout.ms": "10000", "heartbeat.interval.ms": "500", "partition.assignment.strategy": assignor,
        ]) { $1 }
        return try KafkaConsumer(configuration: settings, groupID: group, topics: [topic], listener: listener, logger: .kafkaTest("consumer"))
    }

    private func partitions(of topic: String, count: Int32) -> Set<TopicPartition> {
        Set((0..<count).map { TopicPartition(topic: topic, partition: $0) })
    }

    func testCreatedTopicReportsItsPartitionCountAndCreatingItAgainIsNoError() throws {
        let admin = try makeAdmin()
        let topic = KafkaTestNames.uniqueTopic("admin")
        XCTAssertNil(try admin.partitionCount(topic: topic))
        try admin.createTopic(topic, partitions: 6)
        XCTAssertEqual(try admin.partitionCount(topic: topic), 6)
        XCTAssertNoThrow(try admin.createTopic(topic, partitions: 6))
    }

    func testDeletedTopicsAreGoneAndDeletingAMissingTopicIsNoError() throws {
        let admin = try makeAdmin()
        let (kept, deleted, missing) = (KafkaTestNames.uniqueTopic("kept"), KafkaTestNames.uniqueTopic("deleted"),
                                        KafkaTestNames.uniqueTopic("never"))
        try admin.createTopic(kept, partitions: 1)
        try admin.createTopic(deleted, partitions: 2)
        try admin.deleteTopics([deleted, missing])
        XCTAssertNil(try admin.partitionCount(topic: deleted))
        XCTAssertEqual(try admin.partitionCount(topic: kept), 1)
    }

    func testAskingForAMissingTopicDoesNotCreateIt() throws {
        let admin = try makeAdmin()
        let topic = KafkaTestNames.uniqueTopic("absent")
        XCTAssertNil(try admin.partitionCount(topic: topic))
        XCTAssertNil(try admin.partitionCount(topic: topic))
    }

    func testTwoMembersSplitSixPartitionsAndTheSurvivorGetsAllWhenOneClosesWithEagerRebalancing() throws {
        try checkTwoMembersSplitSixPartitionsAndTheSurvivorGetsAll(assignor: "range,roundrobin")
    }

    func testTwoMembersSplitSixPartitionsAndTheSurvivorGetsAllWhenOneClosesWithCooperativeRebalancing() throws {
        try checkTwoMembersSplitSixPartitionsAndTheSurvivorGetsAll(assignor: "cooperative-sticky")
    }

    private func checkTwoMembersSplitSixPartitionsAndTheSurvivorGetsAll(assignor: String) throws {
        let topic = KafkaTestNames.uniqueTopic("group")
        try makeAdmin().createTopic(topic, partitions: 6)
        let group = KafkaTestNames.uniqueTopic("group")
        let all = partitions(of: topic, count: 6)
        let firstListener = RecordingRebalanceListener()
        let secondListener = RecordingRebalanceListener()
        let first = try makeConsumer(group: group, topic: topic, listener: firstListener, assignor: assignor)
        let second = try makeConsumer(group: group, topic: topic, listener: secondListener, assignor: assignor)

        // Both members live on this thread, so they take turns polling; rebalances run inside poll.
        var deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            _ = try first.poll(timeoutMilliseconds: 100)
            _ = try second.poll(timeoutMilliseconds: 100)
            let split = Set(first.assignment).union(second.assignment)
            if !first.assignment.isEmpty, !second.assignment.isEmpty, split == all,
               first.assignment.count + second.assignment.count == 6 { break }
        }
        XCTAssertFalse(first.assignment.isEmpty)
        XCTAssertFalse(second.assignment.isEmpty)
        XCTAssertEqual(first.assignment.count + second.assignment.count, 6)
        XCTAssertEqual(Set(first.assignment).union(second.assignment), all)

        let secondHeld = second.assignment
        second.close()
        XCTAssertEqual(secondListener.revoked.last.map(Set.init), Set(secondHeld))

        deadline = Date().addingTimeInterval(60)
        while Set(first.assignment) != all, Date() < deadline {
            _ = try first.poll(timeoutMilliseconds: 100)
        }
        XCTAssertEqual(Set(first.assignment), all)
        // Whatever the protocol, the listener has been told about every partition the survivor now holds.
        XCTAssertTrue(all.isSubset(of: Set(firstListener.assigned.flatMap { $0 })))
        XCTAssertEqual(firstListener.assigned.last.map(Set.init)?.isSubset(of: all), true)
        first.close()
    }

    func testPartitionsKeptThroughAnEagerRebalanceStayPausedAndThoseThatLeaveForgetTheirPause() throws {
        try checkPausesThroughARebalance(assignor: "range,roundrobin")
    }

    func testPartitionsKeptThroughACooperativeRebalanceStayPausedAndThoseThatLeaveForgetTheirPause() throws {
        try checkPausesThroughARebalance(assignor: "cooperative-sticky")
    }

    private func checkPausesThroughARebalance(assignor: String) throws {
        let topic = KafkaTestNames.uniqueTopic("pause")
        try makeAdmin().createTopic(topic, partitions: 6)
        let group = KafkaTestNames.uniqueTopic("pause")
        let all = partitions(of: topic, count: 6)
        let first = try makeConsumer(group: group, topic: topic, listener: nil, assignor: assignor)
        _ = try first.poll(forAtMost: 30) { consumer, _ in consumer.assignment.count == 6 }
        XCTAssertEqual(Set(first.assignment), all)
        try first.pause(first.assignment)

        // A second member forces a rebalance; with eager rebalancing everything is revoked and reassigned.
        let second = try makeConsumer(group: group, topic: topic, listener: nil, assignor: assignor)
        let deadline = Date().addingTimeInterval(60)
        while first.assignment.isEmpty || second.assignment.isEmpty || first.assignment.count + second.assignment.count != 6,
              Date() < deadline {
            _ = try first.poll(timeoutMilliseconds: 100)
            _ = try second.poll(timeoutMilliseconds: 100)
        }
        XCTAssertFalse(first.assignment.isEmpty)
        XCTAssertFalse(second.assignment.isEmpty)
        XCTAssertEqual(first.pausedPartitions, first.assignment, "partitions that moved to the second member are no longer paused")

        let producer = try KafkaProducer(configuration: configuration, logger: .kafkaTest("producer"))
        var sentTo: [TopicPartition: Int] = [:]
        for index in 0..<60 {
            let report = try producer.send(topic: topic, key: Array("study-\(index)".utf8), value: [UInt8(index)])
            sentTo[TopicPartition(topic: topic, partition: report.partition), default: 0] += 1
        }
        let expectedBySecond = second.assignment.reduce(0) { $0 + sentTo[$1, default: 0] }
        let expectedByFirst = 60 - expectedBySecond

        var deliveredToFirst: [KafkaMessage] = []
        let bySecond = try second.poll(forAtMost: 30) { _, messages in
            if let message = try? first.poll(timeoutMilliseconds: 10) { deliveredToFirst.append(message) }
            return messages.count >= expectedBySecond
        }
        XCTAssertEqual(bySecond.count, expectedBySecond)
        XCTAssertEqual(deliveredToFirst.count, 0, "the first member's partitions were paused before the rebalance")

        try first.resume(Array(all))
        XCTAssertEqual(first.pausedPartitions, [])
        deliveredToFirst += try first.poll(forAtMost: 30) { _, messages in messages.count >= expectedByFirst }
        XCTAssertEqual(deliveredToFirst.count, expectedByFirst)
        second.close()
        first.close()
    }

    func testThousandEnqueuedMessagesAreConsumedExactlyOnce() throws {
        let topic = KafkaTestNames.uniqueTopic("bulk")
        try makeAdmin().createTopic(topic, partitions: 6)
        let producer = try KafkaProducer(configuration: configuration, logger: .kafkaTest("producer"))
        for index in 0..<1000 {
            try producer.enqueue(topic: topic, key: Array("study-\(index)".utf8), value: Array("\(index)".utf8))
        }
        try producer.flush(timeoutMilliseconds: 30_000)
        producer.close()

        let consumer = try makeConsumer(group: KafkaTestNames.uniqueTopic("bulk"), topic: topic, listener: nil)
        var messages = try consumer.poll(forAtMost: 60) { _, messages in messages.count >= 1000 }
        // Anything beyond 1000 would be a duplicate; give it a moment to show up.
        messages += try consumer.poll(forAtMost: 2) { _, _ in false }
        XCTAssertEqual(messages.count, 1000)
        XCTAssertEqual(Set(messages.map { String(decoding: $0.value, as: UTF8.self) }), Set((0..<1000).map(String.init)))
        for (partition, delivered) in Dictionary(grouping: messages, by: \.partition) {
            XCTAssertEqual(delivered.map(\.offset), Array(0..<Int64(delivered.count)), "partition \(partition)")
        }
        XCTAssertGreaterThan(Set(messages.map(\.partition)).count, 1, "keys should spread over partitions")
        consumer.close()
    }
}

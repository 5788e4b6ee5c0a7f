import Kafka
import TestSupport
import XCTest

/// Producer and consumer behaviour against librdkafka's in-process mock cluster.
final class KafkaMockClusterTests: XCTestCase {
    private var cluster: KafkaMockCluster!
    private var topic: String!

    override func setUpWithError() throws {
        cluster = try KafkaMockCluster()
        topic = KafkaTestNames.uniqueTopic("mock")
        try cluster.createTopic(topic, partitions: 1)
    }

    override func tearDown() {
        cluster = nil
    }

    private func makeProducer() throws -> KafkaProducer {
        try KafkaProducer(configuration: cluster.configuration(), logger: .kafkaTest("producer"))
    }

    private func makeConsumer(
        group: String = "group", listener: KafkaRebalanceListener?, settings: [String: String] = [:]
    ) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: cluster.configuration(KafkaMockCluster.fastConsumerSettings.merging(settings) { $1 }), groupID: group, topics: [topic], listener: listener,
            logger: .kafkaTest("consumer")
        )
    }

    private func produce(_ count: Int, with producer: KafkaProducer) throws {
        for index in 0..<count {
            try producer.enqueue(topic: topic, key: nil, value: Array("message-\(index)".utf8))
        }
        try producer.flush(timeoutMilliseconds: 10_000)
    }

    private var partition0: TopicPartition { TopicPartition(topic: topic, partition: 0) }

    func testProducedMessageRoundTripsWithKeyValueAndHeaders() throws {
        let producer = try makeProducer()
        let headers = [
            KafkaHeader(key: "event-id", value: Array("e-1".utf8)),
            KafkaHeader(key: "empty", value: []),
            KafkaHeader(key: "absent", value: nil),
        ]
        let report = try producer.send(topic: topic, key: Array("1.2.840.1".utf8), value: [0, 1, 2, 255], headers: headers)
        XCTAssertEqual(report.topic, topic)
        XCTAssertEqual(report.partition, 0)
        XCTAssertEqual(report.offset, 0)

        let consumer = try makeConsumer(listener: nil)
        let messages = try consumer.poll(forAtMost: 15) { _, messages in !messages.isEmpty }
        let message = try XCTUnwrap(messages.first)
        XCTAssertEqual(message.topicPartition, partition0)
        XCTAssertEqual(message.offset, 0)
        XCTAssertEqual(message.key, Array("1.2.840.1".utf8))
        XCTAssertEqual(message.value, [0, 1, 2, 255])
        XCTAssertEqual(message.headers, headers)
        XCTAssertNotNil(message.timestamp)
    }

    func testEmptyValueArrivesAsEmptyNotAbsentAndNilKeyAsNil() throws {
        try makeProducer().send(topic: topic, key: nil, value: [])
        let consumer = try makeConsumer(listener: nil)
        let message = try XCTUnwrap(consumer.poll(forAtMost: 15) { _, messages in !messages.isEmpty }.first)
        XCTAssertNil(message.key)
        XCTAssertEqual(message.value, [])
    }

    func testListenerStartOffsetIsWhereConsumptionBegins() throws {
        try produce(10, with: makeProducer())
        let listener = RecordingRebalanceListener(startOffsets: [partition0: 7])
        let consumer = try makeConsumer(listener: listener)
        let messages = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 3 }
        XCTAssertEqual(messages.map(\.offset), [7, 8, 9])
        XCTAssertEqual(messages.first?.value, Array("message-7".utf8))
        XCTAssertEqual(listener.assigned, [[partition0]])
        XCTAssertEqual(consumer.assignment, [partition0])
    }

    func testListenerStartOffsetIsHonouredWithCooperativeRebalancing() throws {
        try produce(10, with: makeProducer())
        let listener = RecordingRebalanceListener(startOffsets: [partition0: 8])
        let consumer = try makeConsumer(listener: listener, settings: ["partition.assignment.strategy": "cooperative-sticky"])
        let messages = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 2 }
        XCTAssertEqual(messages.map(\.offset), [8, 9])
        consumer.close()
        XCTAssertEqual(listener.revoked, [[partition0]])
    }

    func testPartitionsWithoutListenerOffsetStartAtTheEarliestOffset() throws {
        try produce(2, with: makeProducer())
        let consumer = try makeConsumer(listener: RecordingRebalanceListener())
        let messages = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 2 }
        XCTAssertEqual(messages.map(\.offset), [0, 1])
    }

    func testPausedPartitionDeliversNothingUntilResumed() throws {
        let producer = try makeProducer()
        try produce(5, with: producer)
        let consumer = try makeConsumer(listener: nil)
        let first = try consumer.poll(forAtMost: 15) { _, messages in !messages.isEmpty }
        XCTAssertEqual(first.map(\.offset), [0])

        try consumer.pause([partition0])
        XCTAssertEqual(consumer.pausedPartitions, [partition0])
        try produce(5, with: producer)
        let whilePaused = try consumer.poll(forAtMost: 2) { _, _ in false }
        XCTAssertEqual(whilePaused.map(\.offset), [], "messages prefetched before the pause must not leak out")

        try consumer.resume([partition0])
        XCTAssertEqual(consumer.pausedPartitions, [])
        let afterResume = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 9 }
        XCTAssertEqual(afterResume.map(\.offset), Array(1...9))
    }

    func testPartitionPausedBeforeItsAssignmentStaysPausedUntilResumed() throws {
        try produce(3, with: makeProducer())
        let consumer = try makeConsumer(listener: nil)
        try consumer.pause([partition0])
        let whilePaused = try consumer.poll(forAtMost: 6) { _, _ in false }
        XCTAssertEqual(consumer.assignment, [partition0])
        XCTAssertEqual(whilePaused.count, 0)

        try consumer.resume([partition0])
        let afterResume = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 3 }
        XCTAssertEqual(afterResume.map(\.offset), [0, 1, 2])
    }

    func testResumingPartitionsThatWereNotPausedChangesNothing() throws {
        try produce(4, with: makeProducer())
        let consumer = try makeConsumer(listener: nil)
        let first = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 2 }
        try consumer.resume([partition0, TopicPartition(topic: topic, partition: 9)])
        let rest = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 2 }
        XCTAssertEqual((first + rest).map(\.offset), [0, 1, 2, 3])
    }

    func testSeekRedeliversFromTheGivenOffset() throws {
        try produce(4, with: makeProducer())
        let consumer = try makeConsumer(listener: nil)
        let firstPass = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 4 }
        XCTAssertEqual(firstPass.map(\.offset), [0, 1, 2, 3])
        try consumer.seek(partition0, to: 1)
        let secondPass = try consumer.poll(forAtMost: 15) { _, messages in messages.count >= 3 }
        XCTAssertEqual(secondPass.map(\.offset), [1, 2, 3])
    }

    func testSeekOnUnassignedPartitionGivesErrorNamingIt() throws {
        let consumer = try makeConsumer(listener: nil)
        let other = TopicPartition(topic: topic, partition: 3)
        XCTAssertThrowsError(try consumer.seek(other, to: 0)) { error in
            XCTAssertTrue((error as? KafkaError)?.message.contains(other.description) ?? false, "\(error)")
        }
    }

    func testListenerErrorIsRethrownFromPollAndNothingIsDelivered() throws {
        try produce(3, with: makeProducer())
        struct OffsetsUnavailable: Error {}
        let listener = RecordingRebalanceListener()
        listener.assignmentError = OffsetsUnavailable()
        let consumer = try makeConsumer(listener: listener)
        var thrown: Error?
        var delivered: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(15)
        while thrown == nil, Date() < deadline {
            do {
                if let message = try consumer.poll(timeoutMilliseconds: 100) { delivered.append(message) }
            } catch {
                thrown = error
            }
        }
        XCTAssertTrue(thrown is OffsetsUnavailable, "\(String(describing: thrown))")
        XCTAssertEqual(consumer.assignment, [])
        let afterwards = try consumer.poll(forAtMost: 2) { _, _ in false }
        XCTAssertEqual((delivered + afterwards).count, 0)
    }

    func testListenerErrorIsRethrownFromPollWithCooperativeRebalancing() throws {
        try produce(3, with: makeProducer())
        struct OffsetsUnavailable: Error {}
        let listener = RecordingRebalanceListener()
        listener.assignmentError = OffsetsUnavailable()
        let consumer = try makeConsumer(listener: listener, settings: ["partition.assignment.strategy": "cooperative-sticky"])
        XCTAssertThrowsError(try consumer.poll(forAtMost: 15) { _, _ in false }) { error in
            XCTAssertTrue(error is OffsetsUnavailable, "\(error)")
        }
        XCTAssertEqual(consumer.assignment, [])
        XCTAssertEqual(try consumer.poll(forAtMost: 2) { _, _ in false }.count, 0)
        consumer.close()
        XCTAssertEqual(listener.revoked, [], "partitions never taken are not reported as revoked")
    }

    func testCloseRevokesPartitionsThroughTheListenerAndIsIdempotent() throws {
        let listener = RecordingRebalanceListener()
        let consumer = try makeConsumer(listener: listener)
        _ = try consumer.poll(forAtMost: 15) { consumer, _ in !consumer.assignment.isEmpty }
        XCTAssertEqual(consumer.assignment, [partition0])
        consumer.close()
        consumer.close()
        XCTAssertEqual(listener.revoked, [[partition0]])
        XCTAssertEqual(consumer.assignment, [])
        XCTAssertThrowsError(try consumer.poll(timeoutMilliseconds: 0)) { error in
            XCTAssertEqual((error as? KafkaError)?.name, "consumer_closed")
        }
    }

    func testCommittedOffsetIsWhereTheNextMemberWithoutListenerOffsetsStarts() throws {
        try produce(5, with: makeProducer())
        let first = try makeConsumer(group: "committers", listener: nil)
        let consumed = try first.poll(forAtMost: 15) { _, messages in messages.count >= 2 }
        XCTAssertEqual(consumed.map(\.offset), [0, 1])
        try first.commit([partition0: 2])
        first.close()

        let second = try makeConsumer(group: "committers", listener: nil)
        let resumed = try second.poll(forAtMost: 15) { _, messages in !messages.isEmpty }
        XCTAssertEqual(resumed.first?.offset, 2)
    }

    func testDeliveryToNonexistentPartitionIsReportedAsKafkaError() throws {
        let producer = try makeProducer()
        XCTAssertThrowsError(try producer.send(topic: topic, key: nil, value: [1], partition: 5)) { error in
            let kafkaError = error as? KafkaError
            XCTAssertEqual(kafkaError?.name, "_UNKNOWN_PARTITION", "\(error)")
            XCTAssertTrue(kafkaError?.message.contains(self.topic) ?? false, "\(error)")
            XCTAssertEqual(kafkaError?.isFatal, false)
        }
    }

    func testDeliveryRejectedByBrokerIsReportedAsNonRetriableKafkaError() throws {
        let producer = try makeProducer()
        try producer.send(topic: topic, key: nil, value: [0])
        cluster.rejectNextProduceRequests()
        XCTAssertThrowsError(try producer.send(topic: topic, key: nil, value: [1])) { error in
            let kafkaError = error as? KafkaError
            XCTAssertEqual(kafkaError?.name, "TOPIC_AUTHORIZATION_FAILED", "\(error)")
            XCTAssertEqual(kafkaError?.isRetriable, false)
        }
    }

    func testFlushReportsEnqueuedMessagesThatTimedOut() throws {
        let producer = try KafkaProducer(configuration: cluster.configuration(["message.timeout.ms": "1000"]), logger: .kafkaTest("producer"))
        let missing = KafkaTestNames.uniqueTopic("hidden")
        cluster.hideTopic(missing)
        try producer.enqueue(topic: topic, key: nil, value: [1])
        try producer.enqueue(topic: missing, key: nil, value: [2])
        try producer.enqueue(topic: missing, key: nil, value: [3])
        XCTAssertThrowsError(try producer.flush(timeoutMilliseconds: 10_000)) { error in
            let message = (error as? KafkaError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("2 enqueued message(s) failed"), message)
            XCTAssertEqual((error as? KafkaError)?.name, "_MSG_TIMED_OUT")
            XCTAssertEqual((error as? KafkaError)?.isRetriable, true, "a timeout heals once the topic is reachable")
            XCTAssertTrue(message.contains(missing), message)
        }
        XCTAssertNoThrow(try producer.flush(timeoutMilliseconds: 1_000), "failures are reported once")
    }

    func testKeyedMessagesLandOnTheSamePartitionsAsWithTheJavaClient() throws {
        let sixPartitions = KafkaTestNames.uniqueTopic("keyed")
        try cluster.createTopic(sixPartitions, partitions: 6)
        let producer = try makeProducer()
        // Expected partitions: Java's murmur2 of the key, positive part, modulo 6 (CRC32 would give 5, 5, 1).
        for (key, expected) in [("kafka", 4), ("giberish123456789", 2), ("1234", 0)] {
            let report = try producer.send(topic: sixPartitions, key: Array(key.utf8), value: [1])
            XCTAssertEqual(report.partition, Int32(expected), key)
        }
    }

    func testExplicitPartitionOverridesTheKey() throws {
        let sixPartitions = KafkaTestNames.uniqueTopic("explicit")
        try cluster.createTopic(sixPartitions, partitions: 6)
        let report = try makeProducer().send(topic: sixPartitions, key: Array("kafka".utf8), value: [1], partition: 3)
        XCTAssertEqual(report.partition, 3)
    }

    func testEnqueuedMessagesAreAllDeliveredInOrderAfterFlush() throws {
        try produce(200, with: makeProducer())
        let consumer = try makeConsumer(listener: nil)
        let messages = try consumer.poll(forAtMost: 20) { _, messages in messages.count >= 200 }
        XCTAssertEqual(messages.map(\.offset), Array(0..<200))
        XCTAssertEqual(messages.last?.value, Array("message-199".utf8))
    }
}

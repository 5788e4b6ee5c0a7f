import CRdKafka
import Logging

/// A consumer-group member over librdkafka, owned by one thread: that thread calls `poll()` and every
/// other method, and the rebalance listener runs on it inside `poll()` and `close()`.
///
/// Offsets are the application's business: auto-commit and the offset store are off by default, start
/// offsets come from the rebalance listener, and `commit` only reports progress for lag monitoring.
public final class KafkaConsumer {
    private let handle: OpaquePointer
    private let callbacks: ClientCallbacks
    private let session: ConsumerSession
    private let logger: Logger
    private let groupID: String
    private let clock = ContinuousClock()
    private var isClosed = false
    /// Held from subscription to close; see `init`.
    private var topicHandles: [OpaquePointer] = []

    static let defaultSettings = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
    ]

    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String],
        listener: KafkaRebalanceListener?, logger: Logger
    ) throws {
        guard !groupID.isEmpty else { throw KafkaError.wrapper("invalid_argument", "consumer needs a non-empty group id") }
        guard !topics.isEmpty, !topics.contains(where: \.isEmpty) else {
            throw KafkaError.wrapper("invalid_argument", "consumer for group '\(groupID)' needs non-empty topic names, got \(topics)")
        }
        var logger = logger
        logger[metadataKey: "kafka.group"] = "\(groupID)"
        self.logger = logger
        self.groupID = groupID
        session = ConsumerSession(listener: listener, logger: logger)
        callbacks = ClientCallbacks(logger: logger, session: session)

        let client = "consumer for group '\(groupID)'"
        let conf = try NativeConfiguration.make(
            defaults: Self.defaultSettings, settings: configuration.settings, enforced: ["group.id": groupID], client: client
        )
        callbacks.install(on: conf)
        rd_kafka_conf_set_rebalance_cb(conf) { handle, event, partitions, _ in
            guard let handle, let partitions, let session = ClientCallbacks.of(handle)?.session else { return }
            session.rebalance(handle, event: event, partitions: partitions)
        }
        rd_kafka_conf_set_offset_commit_cb(conf) { handle, code, offsets, _ in
            guard let handle, let session = ClientCallbacks.of(handle)?.session else { return }
            session.commitCompleted(code, offsets: offsets)
        }
        handle = try NativeConfiguration.makeHandle(type: RD_KAFKA_CONSUMER, conf: conf, client: client)

        // One queue for messages, rebalances, errors and commit results: all served by poll().
        rd_kafka_poll_set_consumer(handle)
        let subscription = topics.map { TopicPartition(topic: $0, partition: -1) }
        let code = PartitionList.with(subscription) { rd_kafka_subscribe(handle, $0) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            // deinit still runs for an initializer that throws this late; it must not close again.
            isClosed = true
            rd_kafka_destroy(handle)
            throw KafkaError(code, context: "\(client) subscribing to \(topics)")
        }
        // librdkafka creates its local topic object only when a partition is first assigned. A partition
        // starting at a logical offset (BEGINNING: never committed in PostgreSQL) whose leader is not
        // known yet at that moment re-queries the offset only after a 500 ms timer: half a second
        // without messages after most first assignments. Creating the topic objects now lets their
        // metadata, leaders included, arrive while the group join is still under way.
        topicHandles = topics.compactMap { rd_kafka_topic_new(handle, $0, nil) }
        logger.info("Kafka consumer subscribed", metadata: ["kafka.topics": "\(topics.joined(separator: ","))"])
    }

    deinit {
        close()
    }

    /// The partitions currently assigned to this member.
    public var assignment: [TopicPartition] {
        session.assigned.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Partitions the application paused and has not resumed, assigned or not.
    public var pausedPartitions: [TopicPartition] {
        session.pausedIntent.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// The next message, or nil when none arrived within the timeout. Rebalances run inside this call.
    /// Transient errors (broker down, leader moves) are logged, rate-limited, and polling goes on;
    /// fatal and authorization errors are thrown, as is anything the rebalance listener threw.
    public func poll(timeoutMilliseconds: Int) throws -> KafkaMessage? {
        try ensureOpen(for: "poll")
        let deadline = clock.now.advanced(by: .milliseconds(max(timeoutMilliseconds, 0)))
        while true {
            try throwFailureRaisedInCallbacks()
            let milliseconds = millisecondsLeft(until: deadline)
            guard let message = rd_kafka_consumer_poll(handle, milliseconds) else {
                try throwFailureRaisedInCallbacks()
                return nil
            }
            defer { rd_kafka_message_destroy(message) }
            // A message that arrives in the same wait as a listener failure is still handed out (it is
            // already off librdkafka's queue); the failure is thrown by the next call.
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR { return KafkaMessage(copying: message) }
            try handleConsumerError(message)
            if milliseconds == 0 {
                try throwFailureRaisedInCallbacks()
                return nil
            }
        }
    }

    private func millisecondsLeft(until deadline: ContinuousClock.Instant) -> Int32 {
        let (seconds, attoseconds) = clock.now.duration(to: deadline).components
        return Int32(clamping: max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }

    private func throwFailureRaisedInCallbacks() throws {
        if let failure = session.takePendingError() { throw failure }
        if let fatal = KafkaError.fatalError(of: handle, context: "consumer for group '\(groupID)'") { throw fatal }
    }

    private func handleConsumerError(_ message: UnsafeMutablePointer<rd_kafka_message_t>) throws {
        let code = message.pointee.err
        if code == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) }
        let place = topic.map { "\($0)[\(message.pointee.partition)]" } ?? "group '\(groupID)'"
        let failure = KafkaError(code, context: "consuming from \(place)", detail: rd_kafka_message_errstr(message).map { String(cString: $0) })
        if failure.isFatal || Self.permanentCodes.contains(code.rawValue) { throw failure }
        callbacks.diagnostics.log(level: .warning, key: "consume.\(failure.name).\(place)", "Kafka consumer error: \(failure)")
    }

    /// Errors that no amount of waiting fixes without an operator: credentials and ACLs.
    private static let permanentCodes: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
    ].map(\.rawValue))

    /// Stops delivery from these partitions until `resume`, across rebalances, whether or not they are
    /// assigned now. Messages already fetched from them are not returned.
    public func pause(_ partitions: [TopicPartition]) throws {
        try ensureOpen(for: "pause")
        try session.pause(partitions, handle: handle)
        logger.info("Kafka partitions paused", metadata: ["kafka.partitions": "\(partitions.listed)"])
    }

    /// Restarts delivery from these partitions where they were paused; others are left as they are.
    public func resume(_ partitions: [TopicPartition]) throws {
        try ensureOpen(for: "resume")
        try session.resume(partitions, handle: handle)
        logger.info("Kafka partitions resumed", metadata: ["kafka.partitions": "\(partitions.listed)"])
    }

    /// Makes `offset` the next offset delivered from an assigned partition.
    ///
    /// librdkafka applies the seek asynchronously but raises a version barrier at once, so no message
    /// fetched from the old position is returned by any later `poll()`. (Waiting for the seek is not
    /// worth it: librdkafka 2.0.x treats that wait's milliseconds as microseconds.)
    public func seek(_ partition: TopicPartition, to offset: Int64) throws {
        try ensureOpen(for: "seek")
        guard session.assigned.contains(partition) else {
            throw KafkaError.wrapper("partition_not_assigned", "seeking \(partition) to offset \(offset): the partition is not assigned to this consumer of group '\(groupID)'")
        }
        try PartitionList.with([partition], offsets: [partition: offset]) { list in
            if let error = rd_kafka_seek_partitions(handle, list, 0) {
                throw KafkaError(consuming: error, context: "seeking \(partition) to offset \(offset)")
            }
            let accepted: Set<Int32> = [RD_KAFKA_RESP_ERR__IN_PROGRESS.rawValue]
            if let failure = PartitionList.firstError(in: list, operation: "seeking to offset \(offset) on", accepting: accepted) {
                throw failure
            }
        }
    }

    /// Commits the next offsets to read asynchronously; results are only logged on failure, because
    /// commits here serve lag monitoring, not correctness.
    public func commit(_ nextOffsets: [TopicPartition: Int64]) throws {
        try ensureOpen(for: "commit")
        guard !nextOffsets.isEmpty else { return }
        let partitions = Array(nextOffsets.keys)
        let code = PartitionList.with(partitions, offsets: nextOffsets) { rd_kafka_commit(handle, $0, 1) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(code, context: "committing offsets for \(partitions.listed) in group '\(groupID)'")
        }
    }

    /// The partition's end offset as last reported by fetch responses (no broker round trip), or nil
    /// while unknown. With the committed offset it gives the consumer lag.
    public func cachedHighWatermark(_ partition: TopicPartition) -> Int64? {
        guard !isClosed else { return nil }
        var low: Int64 = -1
        var high: Int64 = -1
        let code = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return high
    }

    /// Leaves the group: the listener sees the revocation, outstanding commits finish. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        let code = rd_kafka_consumer_close(handle)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("Kafka consumer close: \(KafkaError(code, context: "leaving group '\(groupID)'"))")
        }
        if let failure = session.takePendingError() {
            logger.warning("Kafka consumer close: \(failure)")
        }
        topicHandles.forEach { rd_kafka_topic_destroy($0) }
        topicHandles = []
        rd_kafka_destroy(handle)
        session.releaseListener()
        logger.info("Kafka consumer closed")
    }

    private func ensureOpen(for operation: String) throws {
        guard !isClosed else {
            throw KafkaError.wrapper("consumer_closed", "\(operation) on the closed consumer for group '\(groupID)'")
        }
    }
}

import CRdKafka
import Logging

/// Topic administration for deployment, benchmarks and tests: create and delete topics, read partition counts.
public final class KafkaAdmin {
    private let handle: OpaquePointer
    private let callbacks: ClientCallbacks
    private let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        self.logger = logger
        callbacks = ClientCallbacks(logger: logger)
        let conf = try NativeConfiguration.make(defaults: [:], settings: configuration.settings, client: "admin client")
        callbacks.install(on: conf)
        handle = try NativeConfiguration.makeHandle(type: RD_KAFKA_PRODUCER, conf: conf, client: "admin client")
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    /// Creates the topic and waits for the controller to confirm; a topic that already exists is success
    /// (its partition count is left as it is).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1, timeoutMilliseconds: Int = 10_000) throws {
        let operation = "creating topic '\(name)' with \(partitions) partition(s), replication factor \(replicationFactor)"
        guard !name.isEmpty, partitions > 0, replicationFactor > 0 else {
            throw KafkaError.wrapper("invalid_argument", "\(operation): name must be non-empty, counts positive")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(name, Int32(clamping: partitions), Int32(clamping: replicationFactor), &errorText, errorText.count) else {
            throw KafkaError.wrapper("invalid_argument", "\(operation): \(String(cString: errorText))")
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        try run(RD_KAFKA_ADMIN_OP_CREATETOPICS, operation, timeoutMilliseconds: timeoutMilliseconds,
                tolerating: RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                submit: { options, queue in
                    var topics: [OpaquePointer?] = [newTopic]
                    rd_kafka_CreateTopics(handle, &topics, 1, options, queue)
                },
                topicResults: { event, count in
                    rd_kafka_event_CreateTopics_result(event).flatMap { rd_kafka_CreateTopics_result_topics($0, &count) }
                })
        logger.info("Kafka topic ensured", metadata: ["kafka.topic": "\(name)", "kafka.partitions": "\(partitions)"])
    }

    /// Deletes the topics and waits for the controller to confirm; a topic that does not exist is success.
    public func deleteTopics(_ names: [String], timeoutMilliseconds: Int = 10_000) throws {
        guard !names.isEmpty else { return }
        let operation = "deleting topic(s) \(names.map { "'\($0)'" }.joined(separator: ", "))"
        let requests = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { requests.forEach { rd_kafka_DeleteTopic_destroy($0) } }
        try run(RD_KAFKA_ADMIN_OP_DELETETOPICS, operation, timeoutMilliseconds: timeoutMilliseconds,
                tolerating: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                submit: { options, queue in
                    var topics: [OpaquePointer?] = requests
                    rd_kafka_DeleteTopics(handle, &topics, topics.count, options, queue)
                },
                topicResults: { event, count in
                    rd_kafka_event_DeleteTopics_result(event).flatMap { rd_kafka_DeleteTopics_result_topics($0, &count) }
                })
        logger.info("Kafka topics deleted", metadata: ["kafka.topics": "\(names)"])
    }

    /// One admin request: submits it on a private queue, waits for its result event, and throws the
    /// request's error or the first per-topic error other than `tolerated`.
    private func run(
        _ kind: rd_kafka_admin_op_t, _ operation: String, timeoutMilliseconds: Int, tolerating tolerated: rd_kafka_resp_err_t,
        submit: (OpaquePointer, OpaquePointer) -> Void,
        topicResults: (OpaquePointer, inout Int) -> UnsafeMutablePointer<OpaquePointer?>?
    ) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let options = rd_kafka_AdminOptions_new(handle, kind)!
        defer { rd_kafka_AdminOptions_destroy(options) }
        let timeout = Int32(clamping: timeoutMilliseconds)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout, &errorText, errorText.count)

        let queue = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(queue) }
        submit(options, queue)
        // The request itself times out after `timeout`; the extra second lets its result arrive.
        guard let event = rd_kafka_queue_poll(queue, timeout + 1_000) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__TIMED_OUT, context: operation)
        }
        defer { rd_kafka_event_destroy(event) }
        let code = rd_kafka_event_error(event)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(code, context: operation, detail: rd_kafka_event_error_string(event).map { String(cString: $0) })
        }
        var count = 0
        guard let results = topicResults(event, &count) else { return }
        for topicResult in UnsafeBufferPointer(start: results, count: count) {
            let topicCode = rd_kafka_topic_result_error(topicResult)
            guard topicCode != RD_KAFKA_RESP_ERR_NO_ERROR, topicCode != tolerated else { continue }
            throw KafkaError(topicCode, context: operation, detail: rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) })
        }
    }

    /// The topic's partition count, or nil when the topic does not exist.
    public func partitionCount(topic: String, timeoutMilliseconds: Int = 5_000) throws -> Int? {
        // Metadata for all topics: asking for one named topic would make brokers with
        // auto.create.topics.enable create it, turning a question into a side effect.
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let code = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(clamping: timeoutMilliseconds))
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            throw KafkaError(code, context: "reading metadata for topic '\(topic)'")
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
        guard let entry = topics.first(where: { String(cString: $0.topic) == topic }) else { return nil }
        switch entry.err {
        case RD_KAFKA_RESP_ERR_NO_ERROR:
            return Int(entry.partition_cnt)
        case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return nil
        default:
            throw KafkaError(entry.err, context: "reading metadata for topic '\(topic)'")
        }
    }
}

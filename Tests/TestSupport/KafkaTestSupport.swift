import CRdKafka
import Foundation
import Kafka
import Logging

/// An in-process Kafka cluster from librdkafka's own test facility: real protocol, real consumer-group
/// coordination, no server to install. Lives as long as this object.
public final class KafkaMockCluster {
    private let host: OpaquePointer
    private let cluster: OpaquePointer
    /// The cluster's bootstrap servers ("127.0.0.1:port,...").
    public let brokers: String

    public init(brokerCount: Int32 = 1) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        // Any client instance can host a mock cluster; this one only keeps it running, and its notice
        // about having no bootstrap servers of its own is noise.
        let conf = rd_kafka_conf_new()
        _ = rd_kafka_conf_set(conf, "log_level", "3", &errorText, errorText.count)
        guard let host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
            throw MockClusterError(description: "creating the mock cluster host: \(String(cString: errorText))")
        }
        guard let cluster = rd_kafka_mock_cluster_new(host, brokerCount) else {
            rd_kafka_destroy(host)
            throw MockClusterError(description: "creating a mock cluster with \(brokerCount) broker(s)")
        }
        self.host = host
        self.cluster = cluster
        brokers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    public func createTopic(_ name: String, partitions: Int32) throws {
        let code = rd_kafka_mock_topic_create(cluster, name, partitions, 1)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw MockClusterError(description: "creating mock topic \(name): \(String(cString: rd_kafka_err2str(code)))")
        }
    }

    /// Makes metadata answers about `topic` carry an authorization failure, so clients never learn
    /// its partitions (messages for it wait until `message.timeout.ms`).
    public func hideTopic(_ topic: String) {
        rd_kafka_mock_topic_set_error(cluster, topic, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
    }

    /// Makes the next `count` produce requests fail with TOPIC_AUTHORIZATION_FAILED, as a broker
    /// whose ACLs forbid writing would answer.
    public func rejectNextProduceRequests(_ count: Int = 1) {
        let errors = [rd_kafka_resp_err_t](repeating: RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, count: count)
        rd_kafka_mock_push_request_errors_array(cluster, Self.produceApiKey, count, errors)
    }

    /// The Kafka protocol's ApiKey of Produce requests.
    private static let produceApiKey: Int16 = 0

    public func configuration(_ settings: [String: String] = [:]) -> KafkaConfiguration {
        KafkaConfiguration(brokers: brokers, settings: settings)
    }

    /// Consumer settings for the mock: a short session, so rejoins after a member leaves are quick.
    public static let fastConsumerSettings = ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500"]

    struct MockClusterError: Error, CustomStringConvertible { let description: String }
}

/// Records what a consumer's rebalance listener was told, and answers with offsets or an error.
public final class RecordingRebalanceListener: KafkaRebalanceListener {
    public private(set) var assigned: [[TopicPartition]] = []
    public private(set) var revoked: [[TopicPartition]] = []
    /// The start offsets handed back on assignment.
    public var startOffsets: [TopicPartition: Int64] = [:]
    /// Thrown from `partitionsAssigned` when set.
    public var assignmentError: Error?

    public init(startOffsets: [TopicPartition: Int64] = [:]) {
        self.startOffsets = startOffsets
    }

    public func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        assigned.append(partitions)
        if let assignmentError { throw assignmentError }
        return startOffsets.filter { partitions.contains($0.key) }
    }

    public func partitionsRevoked(_ partitions: [TopicPartition]) {
        revoked.append(partitions)
    }
}

public enum KafkaTestNames {
    /// A topic name no other test (or earlier run against the same broker) uses.
    public static func uniqueTopic(_ purpose: String) -> String {
        "radfm-test-\(purpose)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

extension Logger {
    /// Warnings and worse unless `RADFM_TEST_LOG_LEVEL` (e.g. `debug`) asks for more, so test output
    /// shows problems and not every rebalance.
    public static func kafkaTest(_ label: String) -> Logger {
        var logger = Logger(label: "kafka-test.\(label)")
        logger.logLevel = ProcessInfo.processInfo.environment["RADFM_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }
}

extension KafkaConsumer {
    /// Polls until `condition` holds or `seconds` pass, collecting the messages delivered meanwhile.
    public func poll(
        forAtMost seconds: Double, until condition: (KafkaConsumer, [KafkaMessage]) -> Bool
    ) throws -> [KafkaMessage] {
        let deadline = Date().addingTimeInterval(seconds)
        var messages: [KafkaMessage] = []
        while !condition(self, messages), Date() < deadline {
            if let message = try poll(timeoutMilliseconds: 100) { messages.append(message) }
        }
        return messages
    }
}

import CRdKafka

/// A failure reported by librdkafka or by this wrapper, with enough context to act on it.
///
/// Callers decide what to do from two flags: `isRetriable` errors heal by themselves (broker restarts,
/// leader moves, rebalances) and are worth a backoff-and-retry; `isFatal` errors mean the client instance
/// is unusable and must be recreated.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// The `rd_kafka_resp_err_t` raw value, or `KafkaError.wrapperCode` for failures detected in Swift.
    public let code: Int32
    /// The symbolic name from `rd_kafka_err2name` (e.g. `_TRANSPORT`, `UNKNOWN_TOPIC_OR_PART`).
    public let name: String
    /// What failed, naming the operation and the topic/partition or configuration key involved.
    public let message: String
    public let isRetriable: Bool
    public let isFatal: Bool

    /// The code of errors raised by this wrapper rather than by librdkafka.
    public static let wrapperCode: Int32 = -1

    public init(code: Int32, name: String, message: String, isRetriable: Bool, isFatal: Bool) {
        self.code = code
        self.name = name
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
    }

    public var description: String {
        var flags: [String] = []
        if isFatal { flags.append("fatal") }
        if isRetriable { flags.append("retriable") }
        let suffix = flags.isEmpty ? "" : " [\(flags.joined(separator: ", "))]"
        return "KafkaError \(name) (\(code)): \(message)\(suffix)"
    }
}

extension KafkaError {
    /// An error from a librdkafka response code; `context` says what was being done.
    init(_ error: rd_kafka_resp_err_t, context: String, detail: String? = nil, isFatal: Bool = false) {
        let reason = detail ?? String(cString: rd_kafka_err2str(error))
        self.init(
            code: error.rawValue,
            name: String(cString: rd_kafka_err2name(error)),
            message: "\(context): \(reason)",
            isRetriable: KafkaError.retriableCodes.contains(error.rawValue),
            isFatal: isFatal || error == RD_KAFKA_RESP_ERR__FATAL
        )
    }

    /// Takes ownership of `error` (destroys it) and keeps librdkafka's own retriable/fatal verdict.
    init(consuming error: OpaquePointer, context: String) {
        defer { rd_kafka_error_destroy(error) }
        let code = rd_kafka_error_code(error)
        self.init(
            code: code.rawValue,
            name: String(cString: rd_kafka_error_name(error)),
            message: "\(context): \(String(cString: rd_kafka_error_string(error)))",
            isRetriable: rd_kafka_error_is_retriable(error) != 0 || KafkaError.retriableCodes.contains(code.rawValue),
            isFatal: rd_kafka_error_is_fatal(error) != 0
        )
    }

    /// The handle's fatal error, if one was raised: once set, the instance can do nothing useful.
    static func fatalError(of handle: OpaquePointer, context: String) -> KafkaError? {
        // Checked on every poll: ask for the code alone first, which allocates nothing.
        guard rd_kafka_fatal_error(handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &buffer, buffer.count)
        return KafkaError(code, context: context, detail: String(cString: buffer), isFatal: true)
    }

    /// A failure detected by this wrapper (bad argument, invalid state), never retriable.
    static func wrapper(_ name: String, _ message: String) -> KafkaError {
        KafkaError(code: wrapperCode, name: name, message: message, isRetriable: false, isFatal: false)
    }

    /// Conditions that heal without intervention: connectivity, leadership changes, group coordination,
    /// timeouts and local back-pressure.
    static let retriableCodes: Set<Int32> = Set([
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE,
        RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE,
        RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__WAIT_COORD, RD_KAFKA_RESP_ERR__IN_PROGRESS,
        RD_KAFKA_RESP_ERR__RETRY,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND,
        RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED,
    ].map(\.rawValue))
}

import CRdKafka
import Logging

/// The Swift object behind a client's `rd_kafka_conf_set_opaque` pointer: C callbacks find their way
/// back here with `rd_kafka_opaque`. The owning client keeps it alive until after `rd_kafka_destroy`.
final class ClientCallbacks {
    let logger: Logger
    let diagnostics: RateLimitedLog
    /// Set for consumers: receives rebalances and commit results.
    let session: ConsumerSession?
    /// Set for producers: receives delivery reports.
    let deliveries: DeliveryLedger?

    init(logger: Logger, session: ConsumerSession? = nil, deliveries: DeliveryLedger? = nil) {
        self.logger = logger
        self.diagnostics = RateLimitedLog(logger: logger)
        self.session = session
        self.deliveries = deliveries
    }

    /// Points `conf` at this object and installs the callbacks every client needs.
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, text in
            guard let handle, let callbacks = ClientCallbacks.of(handle) else { return }
            callbacks.forwardLog(level: level, facility: facility.map { String(cString: $0) } ?? "", text: text.map { String(cString: $0) } ?? "")
        }
        rd_kafka_conf_set_error_cb(conf) { _, code, reason, opaque in
            guard let opaque else { return }
            let callbacks = Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
            callbacks.reportClientError(rd_kafka_resp_err_t(rawValue: code), reason: reason.map { String(cString: $0) } ?? "")
        }
    }

    static func of(_ handle: OpaquePointer) -> ClientCallbacks? {
        rd_kafka_opaque(handle).map { Unmanaged<ClientCallbacks>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Client-wide errors (broker connections, authentication, fatal idempotence failures). They are
    /// informational for all but fatal ones, which each client checks for and throws from its next call.
    private func reportClientError(_ error: rd_kafka_resp_err_t, reason: String) {
        let name = String(cString: rd_kafka_err2name(error))
        let level: Logger.Level = error == RD_KAFKA_RESP_ERR__FATAL ? .critical : .warning
        diagnostics.log(level: level, key: "error.\(name)", "Kafka client error: \(reason)", metadata: ["kafka.error": "\(name)"])
    }

    /// librdkafka's syslog levels onto swift-log. Broker connection failures repeat for as long as a
    /// broker is down, so warnings and worse are rate-limited per facility; debugging output is not.
    private func forwardLog(level: Int32, facility: String, text: String) {
        let swiftLevel: Logger.Level
        switch level {
        case ...2: swiftLevel = .critical
        case 3: swiftLevel = .error
        case 4: swiftLevel = .warning
        case 5: swiftLevel = .notice
        case 6: swiftLevel = .info
        default: swiftLevel = .debug
        }
        guard logger.logLevel <= swiftLevel else { return }
        guard swiftLevel >= .warning else {
            logger.log(level: swiftLevel, "\(text)", metadata: ["kafka.facility": "\(facility)"])
            return
        }
        diagnostics.log(level: swiftLevel, key: "log.\(level).\(facility)", text, metadata: ["kafka.facility": "\(facility)"])
    }
}

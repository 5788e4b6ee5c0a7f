import CRdKafka
import Logging

/// An idempotent producer over librdkafka, owned by one thread (delivery reports are served by the
/// thread that sends or flushes).
///
/// `send` waits for each message's delivery report, for the few messages whose fate the caller must
/// know (dead letters); `enqueue` + `flush` batch many messages for throughput (backfill).
public final class KafkaProducer {
    private let handle: OpaquePointer
    private let callbacks: ClientCallbacks
    private let deliveries: DeliveryLedger
    private let logger: Logger
    private var isClosed = false

    /// How long `close` waits for enqueued messages before dropping them.
    private static let closeFlushMilliseconds = 10_000
    /// How long one wait for delivery reports or queue space lasts before checking again.
    private static let pollMilliseconds: Int32 = 100

    /// librdkafka's own default partitioner hashes keys with CRC32; murmur2 is what the Java client and
    /// Kafka Streams use, so keyed messages land on the same partition whichever client wrote them.
    static let defaultSettings = [
        "enable.idempotence": "true",
        "acks": "all",
        "partitioner": "murmur2_random",
    ]

    public init(configuration: KafkaConfiguration, logger: Logger) throws {
        self.logger = logger
        deliveries = DeliveryLedger()
        callbacks = ClientCallbacks(logger: logger, deliveries: deliveries)
        let conf = try NativeConfiguration.make(defaults: Self.defaultSettings, settings: configuration.settings, client: "producer")
        callbacks.install(on: conf)
        rd_kafka_conf_set_dr_msg_cb(conf) { handle, message, _ in
            guard let handle, let message, let deliveries = ClientCallbacks.of(handle)?.deliveries else { return }
            deliveries.delivered(message, handle: handle)
        }
        handle = try NativeConfiguration.makeHandle(type: RD_KAFKA_PRODUCER, conf: conf, client: "producer")
    }

    deinit {
        close()
    }

    /// Produces one message and blocks until the broker acknowledged it (or it definitively failed).
    /// With a key and no partition, Kafka's default partitioner (murmur2, as in the Java client) picks it.
    @discardableResult
    public func send(
        topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], partition: Int32? = nil
    ) throws -> DeliveryReport {
        try ensureOpen(for: "send to \(topic)")
        let awaited = DeliveryLedger.Awaited()
        let opaque = Unmanaged.passRetained(awaited).toOpaque()
        do {
            try produce(topic: topic, key: key, value: value, headers: headers, partition: partition, opaque: opaque)
        } catch {
            Unmanaged<DeliveryLedger.Awaited>.fromOpaque(opaque).release()
            throw error
        }
        // librdkafka reports every accepted message exactly once, at the latest after message.timeout.ms.
        while awaited.outcome == nil {
            rd_kafka_poll(handle, Self.pollMilliseconds)
        }
        return try awaited.outcome!.get()
    }

    /// Produces without waiting; a failed delivery surfaces from the next `flush`.
    public func enqueue(topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) throws {
        try ensureOpen(for: "enqueue to \(topic)")
        try produce(topic: topic, key: key, value: value, headers: headers, partition: nil, opaque: nil)
        // Serve delivery reports as we go, so they do not pile up until flush.
        rd_kafka_poll(handle, 0)
    }

    /// Waits until every enqueued message is delivered; throws if any failed or the timeout passed.
    public func flush(timeoutMilliseconds: Int) throws {
        try ensureOpen(for: "flush")
        let code = rd_kafka_flush(handle, Int32(clamping: timeoutMilliseconds))
        if let failure = deliveries.takeEnqueuedFailures() { throw failure }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(code, context: "flushing producer: \(rd_kafka_outq_len(handle)) message(s) or request(s) still outstanding after \(timeoutMilliseconds) ms")
        }
    }

    /// Flushes with a deadline, logs what could not be delivered, and releases the client. Idempotent.
    public func close() {
        guard !isClosed else { return }
        do {
            try flush(timeoutMilliseconds: Self.closeFlushMilliseconds)
        } catch {
            logger.error("Kafka producer closing with undelivered messages: \(error)")
        }
        isClosed = true
        rd_kafka_destroy(handle)
    }

    private func produce(
        topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], partition: Int32?,
        opaque: UnsafeMutableRawPointer?
    ) throws {
        guard !topic.isEmpty else { throw KafkaError.wrapper("invalid_argument", "producing to an empty topic name") }
        let nativeHeaders = ProduceArguments.makeHeaders(headers)
        while true {
            let error = ProduceArguments.with(
                topic: topic, key: key, value: value, headers: nativeHeaders, partition: partition, opaque: opaque
            ) { rd_kafka_produceva(handle, $0.baseAddress, $0.count) }
            guard let error else { return }  // librdkafka now owns the headers.
            // A full local queue is back-pressure: wait for deliveries to make room.
            if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_error_destroy(error)
                rd_kafka_poll(handle, Self.pollMilliseconds)
                continue
            }
            if let nativeHeaders { rd_kafka_headers_destroy(nativeHeaders) }
            let place = partition.map { "\(topic)[\($0)]" } ?? topic
            throw KafkaError(consuming: error, context: "producing to \(place)")
        }
    }

    private func ensureOpen(for operation: String) throws {
        guard !isClosed else { throw KafkaError.wrapper("producer_closed", "\(operation) on a closed producer") }
    }
}

import CRdKafka

/// Collects delivery reports for one producer. librdkafka calls the delivery-report callback inside
/// `rd_kafka_poll`/`rd_kafka_flush` on the producer's own thread, so no locking is needed.
final class DeliveryLedger {
    /// The outcome `send` waits for; passed retained through the message's opaque pointer.
    final class Awaited {
        var outcome: Result<DeliveryReport, KafkaError>?
    }

    /// Failures of messages enqueued without waiting, reported by the next `flush`.
    private(set) var enqueuedFailureCount = 0
    private var firstEnqueuedFailure: KafkaError?

    func delivered(_ message: UnsafePointer<rd_kafka_message_t>, handle: OpaquePointer) {
        let record = message.pointee
        let topic = record.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        var failure: KafkaError?
        if record.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let context = "delivering message to \(topic)[\(record.partition)]"
            failure = record.err == RD_KAFKA_RESP_ERR__FATAL
                ? KafkaError.fatalError(of: handle, context: context) ?? KafkaError(record.err, context: context)
                : KafkaError(record.err, context: context)
        }
        if let opaque = record._private {
            let awaited = Unmanaged<Awaited>.fromOpaque(opaque).takeRetainedValue()
            awaited.outcome = failure.map { .failure($0) }
                ?? .success(DeliveryReport(topic: topic, partition: record.partition, offset: record.offset))
        } else if let failure {
            enqueuedFailureCount += 1
            if firstEnqueuedFailure == nil { firstEnqueuedFailure = failure }
        }
    }

    /// One error summarizing the enqueued messages that failed since the last call, if any.
    func takeEnqueuedFailures() -> KafkaError? {
        defer {
            enqueuedFailureCount = 0
            firstEnqueuedFailure = nil
        }
        guard let first = firstEnqueuedFailure else { return nil }
        return KafkaError(
            code: first.code, name: first.name,
            message: "\(enqueuedFailureCount) enqueued message(s) failed; first: \(first.message)",
            isRetriable: first.isRetriable, isFatal: first.isFatal
        )
    }
}

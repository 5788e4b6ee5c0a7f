import CRdKafka
import Logging

/// Everything a consumer knows about its partitions, in one place: what the group assigned to it and
/// what the application wants paused. Mutated only on the thread that polls (librdkafka serves the
/// rebalance callback inside `rd_kafka_consumer_poll` and `rd_kafka_consumer_close`).
///
/// A pause lasts while the partition stays with this member, so a rebalance during a database outage
/// cannot silently restart delivery: eager rebalancing revokes every partition and hands most straight
/// back, and those stay paused (librdkafka keeps the pause on its partition object). A partition that
/// leaves for another member has its pause forgotten, as in the Java client, so it does not come back
/// paused months later. A partition librdkafka does not know yet (paused before the first metadata
/// arrived) is paused here when it is assigned. Only paused partitions are ever resumed: librdkafka
/// before 2.5 could rewind a partition that was resumed without being paused.
final class ConsumerSession {
    private(set) var assigned: Set<TopicPartition> = []
    private(set) var pausedIntent: Set<TopicPartition> = []
    /// Paused partitions librdkafka did not know when `pause` was called; applied on assignment.
    private var pausesNotApplied: Set<TopicPartition> = []
    /// Partitions an eager rebalance revoked; whether they left is known at the assignment that follows.
    private var revokedAwaitingAssignment: Set<TopicPartition> = []
    private var listener: KafkaRebalanceListener?
    /// The first failure inside a callback, rethrown by the next `poll()`.
    private var pendingError: Error?
    private let logger: Logger
    private let commitLog: RateLimitedLog

    init(listener: KafkaRebalanceListener?, logger: Logger) {
        self.listener = listener
        self.logger = logger
        self.commitLog = RateLimitedLog(logger: logger)
    }

    func takePendingError() -> Error? {
        defer { pendingError = nil }
        return pendingError
    }

    /// Drops the listener after close, breaking the cycle when the listener owns the consumer.
    func releaseListener() {
        listener = nil
    }

    // MARK: Rebalances

    func rebalance(_ handle: OpaquePointer, event: rd_kafka_resp_err_t, partitions list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = rd_kafka_rebalance_protocol(handle).map { String(cString: $0) } == "COOPERATIVE"
        switch event {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            assign(list, handle: handle, cooperative: cooperative)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            revoke(PartitionList.partitions(in: list), handle: handle, cooperative: cooperative)
        default:
            // Not expected from librdkafka; drop everything so the group state and ours agree.
            logger.error("Unexpected rebalance event \(String(cString: rd_kafka_err2name(event))); unassigning all partitions")
            revoke(Array(assigned), handle: handle, cooperative: false)
        }
    }

    private func assign(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, handle: OpaquePointer, cooperative: Bool) {
        let partitions = PartitionList.partitions(in: list)
        let startOffsets: [TopicPartition: Int64]
        do {
            startOffsets = try listener?.partitionsAssigned(partitions) ?? [:]
        } catch {
            logger.error("Rebalance listener failed for assigned partitions \(partitions.listed); not consuming them: \(error)")
            record(error)
            // The group still has to hear back from us; an empty assignment keeps its protocol moving
            // while nothing is fetched from partitions whose start offsets are unknown.
            PartitionList.with([]) { empty in
                if let failure = applyAssignment(empty, assign: true, handle: handle, cooperative: cooperative, operation: "acknowledging refused assignment") {
                    record(failure)
                }
            }
            forgetPausesOfDeparted(keeping: [], handle: handle)
            return
        }
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            let partition = TopicPartition(topic: String(cString: element.topic), partition: element.partition)
            if let offset = startOffsets[partition] { list.pointee.elems[index].offset = offset }
        }
        if let failure = applyAssignment(list, assign: true, handle: handle, cooperative: cooperative, operation: "assigning \(partitions.listed)") {
            record(failure)
            return
        }
        assigned.formUnion(partitions)
        forgetPausesOfDeparted(keeping: Set(partitions), handle: handle)
        do {
            try applyPendingPauses(to: partitions, handle: handle)
        } catch {
            record(error)
        }
        logger.info("Kafka partitions assigned", metadata: [
            "kafka.partitions": "\(partitions.listed)",
            "kafka.rebalance_protocol": "\(cooperative ? "cooperative" : "eager")",
            "kafka.start_offsets": "\(startOffsets.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", "))",
            "kafka.paused": "\(partitions.filter(pausedIntent.contains).listed)",
        ])
    }

    private func revoke(_ revoked: [TopicPartition], handle: OpaquePointer, cooperative: Bool) {
        // Partitions whose assignment the listener refused were never assigned here: not ours to revoke.
        let owned = revoked.filter(assigned.contains)
        let lost = rd_kafka_assignment_lost(handle) != 0
        if !owned.isEmpty { listener?.partitionsRevoked(owned) }
        let failure: KafkaError?
        if cooperative {
            failure = PartitionList.with(owned) { list in
                applyAssignment(list, assign: false, handle: handle, cooperative: true, operation: "unassigning \(owned.listed)")
            }
        } else {
            failure = applyAssignment(nil, assign: false, handle: handle, cooperative: false, operation: "unassigning \(owned.listed)")
        }
        if let failure { record(failure) }
        if cooperative {
            // Cooperative rebalancing revokes only what moves to another member.
            assigned.subtract(owned)
            forgetPauses(of: Set(owned), handle: handle)
        } else {
            // Eager revocation takes the whole assignment; most of it may come straight back.
            assigned = []
            revokedAwaitingAssignment.formUnion(owned)
        }
        logger.info(lost ? "Kafka partitions lost" : "Kafka partitions revoked", metadata: [
            "kafka.partitions": "\(owned.listed)",
            "kafka.rebalance_protocol": "\(cooperative ? "cooperative" : "eager")",
        ])
    }

    /// The assign/unassign call matching the group's protocol; nil on success.
    private func applyAssignment(
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, assign: Bool, handle: OpaquePointer,
        cooperative: Bool, operation: String
    ) -> KafkaError? {
        if cooperative {
            let error = assign ? rd_kafka_incremental_assign(handle, list) : rd_kafka_incremental_unassign(handle, list)
            return error.map { KafkaError(consuming: $0, context: operation) }
        }
        let code = rd_kafka_assign(handle, assign ? list : nil)
        return code == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(code, context: operation)
    }

    private func record(_ error: Error) {
        if pendingError == nil { pendingError = error }
    }

    // MARK: Pausing

    func pause(_ partitions: [TopicPartition], handle: OpaquePointer) throws {
        let newlyPaused = Set(partitions).subtracting(pausedIntent)
        pausedIntent.formUnion(newlyPaused)
        pausesNotApplied.formUnion(try applyPause(true, Array(newlyPaused), handle: handle))
    }

    func resume(_ partitions: [TopicPartition], handle: OpaquePointer) throws {
        let paused = Set(partitions).intersection(pausedIntent)
        pausedIntent.subtract(paused)
        let knownToLibrdkafka = paused.subtracting(pausesNotApplied)
        pausesNotApplied.subtract(paused)
        _ = try applyPause(false, Array(knownToLibrdkafka), handle: handle)
    }

    /// After an eager revoke-and-assign: the revoked partitions not handed back have left.
    private func forgetPausesOfDeparted(keeping returned: Set<TopicPartition>, handle: OpaquePointer) {
        let departed = revokedAwaitingAssignment.subtracting(returned)
        revokedAwaitingAssignment = []
        forgetPauses(of: departed, handle: handle)
    }

    /// Drops the pause of partitions that left this member, in librdkafka too (it would otherwise keep
    /// the partition paused should it ever come back).
    private func forgetPauses(of departed: Set<TopicPartition>, handle: OpaquePointer) {
        let paused = departed.intersection(pausedIntent)
        guard !paused.isEmpty else { return }
        pausedIntent.subtract(paused)
        let knownToLibrdkafka = paused.subtracting(pausesNotApplied)
        pausesNotApplied.subtract(paused)
        do {
            _ = try applyPause(false, Array(knownToLibrdkafka), handle: handle)
        } catch {
            record(error)
        }
        logger.info("Kafka pauses forgotten for partitions that left this member", metadata: ["kafka.partitions": "\(paused.listed)"])
    }

    /// Pauses the newly assigned partitions whose pause librdkafka has not heard of yet.
    private func applyPendingPauses(to partitions: [TopicPartition], handle: OpaquePointer) throws {
        let pending = partitions.filter(pausesNotApplied.contains)
        pausesNotApplied.subtract(pending)
        pausesNotApplied.formUnion(try applyPause(true, pending, handle: handle))
    }

    /// Pauses or resumes in librdkafka; returns the partitions it does not know (yet).
    private func applyPause(_ pause: Bool, _ partitions: [TopicPartition], handle: OpaquePointer) throws -> [TopicPartition] {
        guard !partitions.isEmpty else { return [] }
        let operation = pause ? "pausing" : "resuming"
        return try PartitionList.with(partitions) { list in
            let code = pause ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code, context: "\(operation) \(partitions.listed)") }
            let unknown: Set<Int32> = [RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION.rawValue]
            if let failure = PartitionList.firstError(in: list, operation: operation, accepting: unknown) { throw failure }
            return PartitionList.elements(of: list)
                .filter { $0.err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION }
                .map { TopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
        }
    }

    // MARK: Commits

    /// Commits are informational (lag monitoring), so a failed one is logged, not raised.
    func commitCompleted(_ code: rd_kafka_resp_err_t, offsets: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        // _NO_OFFSET means there was nothing new to commit.
        guard code != RD_KAFKA_RESP_ERR__NO_OFFSET else { return }
        let failure = code != RD_KAFKA_RESP_ERR_NO_ERROR
            ? KafkaError(code, context: "committing offsets")
            : offsets.flatMap { PartitionList.firstError(in: $0, operation: "committing offset for") }
        guard let failure else { return }
        commitLog.log(level: .warning, key: failure.name, "Kafka offset commit failed: \(failure)")
    }
}

import CRdKafka

/// Conversions between Swift partition collections and `rd_kafka_topic_partition_list_t`.
enum PartitionList {
    /// A new native list that the caller must destroy with `rd_kafka_topic_partition_list_destroy`.
    /// Partitions without an offset get librdkafka's "invalid" marker, meaning "use the committed offset".
    static func make(_ partitions: [TopicPartition], offsets: [TopicPartition: Int64] = [:]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        for partition in partitions {
            let element = rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!
            if let offset = offsets[partition] { element.pointee.offset = offset }
        }
        return list
    }

    /// Runs `body` with a temporary native list.
    static func with<Result>(
        _ partitions: [TopicPartition], offsets: [TopicPartition: Int64] = [:],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> Result
    ) rethrows -> Result {
        let list = make(partitions, offsets: offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try body(list)
    }

    static func elements(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    static func partitions(in list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        elements(of: list).map { TopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// The first per-partition error in `list`, as a `KafkaError` naming the partition and the operation;
    /// `accepted` codes (e.g. "in progress" after an asynchronous call) are not errors.
    static func firstError(
        in list: UnsafePointer<rd_kafka_topic_partition_list_t>, operation: String, accepting accepted: Set<Int32> = []
    ) -> KafkaError? {
        for element in elements(of: list) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR && !accepted.contains(element.err.rawValue) {
            let partition = TopicPartition(topic: String(cString: element.topic), partition: element.partition)
            return KafkaError(element.err, context: "\(operation) \(partition)")
        }
        return nil
    }
}

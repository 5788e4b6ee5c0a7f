/// Hooks into consumer-group rebalances, so the application can restore its own offsets (for example
/// from a database written in the same transaction as its results) and finish work on partitions it is
/// about to lose.
public protocol KafkaRebalanceListener: AnyObject {
    /// Called on the polling thread inside `poll()` when partitions are assigned. Returns the offset each
    /// partition should start at; partitions missing from the result start from the committed offset /
    /// `auto.offset.reset`. If it throws, the consumer unassigns them and `poll()` rethrows the error.
    func partitionsAssigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64]

    /// Called on the polling thread inside `poll()` (or `close()`) before partitions are taken away,
    /// whether revoked by a rebalance or lost (session timeout, fenced member).
    func partitionsRevoked(_ partitions: [TopicPartition])
}

/// One partition of one topic: the unit of assignment, pausing, seeking and committing.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

extension Collection where Element == TopicPartition {
    /// A stable, readable rendering for log lines and error messages.
    var listed: String {
        sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }.map(\.description).joined(separator: ", ")
    }
}

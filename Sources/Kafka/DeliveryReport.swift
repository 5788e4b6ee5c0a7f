/// Where the broker stored a produced message.
public struct DeliveryReport: Sendable {
    public let topic: String
    public let partition: Int32
    /// The message's offset, or -1 when the broker does not return one (acks=0).
    public let offset: Int64

    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

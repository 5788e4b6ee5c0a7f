import Foundation
import Kafka

/// Sends poison events to the dead-letter topic with the error and the original position in headers,
/// so a DLQ reader needs nothing but the message. Delivery is confirmed before the batch commits; a
/// crash between the two can send a letter twice, which readers recognise by the original position.
public struct DeadLetterPublisher {
    public let producer: KafkaProducer
    public let topic: String

    public init(producer: KafkaProducer, topic: String) {
        self.producer = producer
        self.topic = topic
    }

    public func publish(_ letter: DeadLetter, from position: MessagePosition, key: [UInt8]?) throws {
        var headers = [
            KafkaHeader(key: "radfm.error.class", value: Array(letter.errorClass.utf8)),
            KafkaHeader(key: "radfm.error.message", value: Array(letter.reason.utf8)),
            KafkaHeader(key: "radfm.original.topic", value: Array(position.topic.utf8)),
            KafkaHeader(key: "radfm.original.partition", value: Array(String(position.partition).utf8)),
            KafkaHeader(key: "radfm.original.offset", value: Array(String(position.offset).utf8)),
        ]
        if let id = letter.eventID { headers.append(KafkaHeader(key: "radfm.event_id", value: Array(id.utf8))) }
        try producer.send(topic: topic, key: key, value: letter.payload, headers: headers)
    }
}

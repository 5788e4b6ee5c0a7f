import Foundation
import Kafka
import Postgres

/// Sends dead letters back to the study topic after the cause was fixed (a missing file restored, a
/// publisher bug corrected). Each letter is published first and then marked replayed with an audit
/// row; a crash in between re-sends it next time, which the event id makes harmless.
public struct DeadLetterReplayer {
    public struct Selection: Sendable {
        public var ids: [Int64] = []
        public var errorClass: String?
        /// Include letters that were already replayed once.
        public var again = false
        public init(ids: [Int64] = [], errorClass: String? = nil, again: Bool = false) {
            self.ids = ids
            self.errorClass = errorClass
            self.again = again
        }
    }

    public struct Letter: Sendable {
        public let id: Int64
        public let errorClass: String
        public let eventID: String?
    }

    let db: PostgresConnection

    public init(db: PostgresConnection) { self.db = db }

    public func select(_ selection: Selection) throws -> [Letter] {
        let rows = try db.query("""
            SELECT dead_letter_id, error_class, event_id FROM dead_letters
            WHERE (cardinality($1::bigint[]) = 0 OR dead_letter_id = ANY($1::bigint[]))
              AND ($2::text IS NULL OR error_class = $2)
              AND ($3::bool OR replayed_at IS NULL)
            ORDER BY dead_letter_id
            """, [PostgresArrayLiteral.integers(selection.ids), selection.errorClass, selection.again])
        return try rows.map { row in
            Letter(id: try row.decode("dead_letter_id", as: Int64.self), errorClass: row["error_class"] ?? "", eventID: row["event_id"])
        }
    }

    /// Publishes the selected letters to `topic`; returns how many were sent.
    public func replay(_ letters: [Letter], to topic: String, producer: KafkaProducer) throws -> Int {
        var sent = 0
        for letter in letters {
            let row = try db.query("SELECT payload, message_key FROM dead_letters WHERE dead_letter_id = $1", [letter.id])[0]
            let payload = try row.decode("payload", as: [UInt8].self)
            let key = try row.decodeIfPresent("message_key", as: [UInt8].self)
            try producer.send(topic: topic, key: key, value: payload,
                              headers: [KafkaHeader(key: "radfm.replay.of", value: Array(String(letter.id).utf8))])
            try db.transaction { tx in
                try tx.execute("UPDATE dead_letters SET replayed_at = now(), replay_count = replay_count + 1 WHERE dead_letter_id = $1", [letter.id])
                try AuditLog.append(tx, action: "dead_letter.replayed", eventID: letter.eventID,
                                    details: ["dead_letter_id": letter.id, "error_class": letter.errorClass, "topic": topic])
            }
            sent += 1
        }
        return sent
    }
}

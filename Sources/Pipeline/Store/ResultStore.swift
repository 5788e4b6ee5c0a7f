import Foundation
import Postgres

/// Where one consumed message came from.
public struct MessagePosition: Sendable, Hashable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// A poison event: what the dead-letter topic, the `dead_letters` table and the audit log record.
public struct DeadLetter: Sendable {
    public let eventID: String?
    /// The Kafka message key, kept so a replay lands on the same partition as the original.
    public var key: [UInt8]? = nil
    public let studyInstanceUID: String?
    public let errorClass: String
    public let reason: String
    public let payload: [UInt8]
}

public struct TaskResult: Sendable {
    public let task: StudyTask
    public let prompt: String
    public let promptHash: String
    public let output: InferenceOutput
    /// For a yes/no diagnosis question: the finding asked about and what the answer says of it.
    public var finding: Finding? = nil
}

/// What happened to one message of a batch.
public enum EventOutcome: Sendable {
    case completed(event: StudyEvent, receivedAt: Date, results: [TaskResult])
    case deadLettered(DeadLetter)
}

public struct ProcessedMessage: Sendable {
    public let position: MessagePosition
    public let outcome: EventOutcome
}

public struct CommitSummary: Sendable, Equatable {
    public var jobsWritten = 0
    public var resultsWritten = 0
    public var resultsAlreadyPresent = 0
    public var duplicateDeliveries = 0
    public var deadLettersWritten = 0
    /// Messages another consumer had already committed (its offsets were ahead of ours).
    public var alreadyCommitted = 0
}

/// Writes a batch's results, audit rows and the consumer's next offsets in ONE transaction
/// (DESIGN section 4): either all of a batch is visible, or none of it is and it will be replayed.
public final class ResultStore {
    public let connection: PostgresConnection
    public let consumerGroup: String

    public init(connection: PostgresConnection, consumerGroup: String) {
        self.connection = connection
        self.consumerGroup = consumerGroup
    }

    public func registerModel(id: String, checkpointSHA256: String?, description: String) throws {
        try connection.execute("""
            INSERT INTO models (model_id, checkpoint_sha256, description) VALUES ($1, $2, $3)
            ON CONFLICT (model_id) DO NOTHING
            """, [id, checkpointSHA256, description])
    }

    /// The offsets to resume from; partitions never committed are absent.
    public func storedOffsets(topic: String, partitions: [Int32]) throws -> [Int32: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let rows = try connection.query("""
            SELECT kafka_partition, next_offset FROM consumer_offsets
            WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = ANY($3::int[])
            """, [consumerGroup, topic, PostgresArrayLiteral.integers(partitions)])
        var offsets: [Int32: Int64] = [:]
        for row in rows {
            offsets[try row.decode("kafka_partition", as: Int32.self)] = try row.decode("next_offset", as: Int64.self)
        }
        return offsets
    }

    public func commit(_ batch: [ProcessedMessage], modelID: String) throws -> CommitSummary {
        try connection.transaction { db in
            try BatchCommit(db: db, consumerGroup: consumerGroup, modelID: modelID).write(batch)
        }
    }
}

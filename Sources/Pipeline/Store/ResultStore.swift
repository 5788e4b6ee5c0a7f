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
            var summary = CommitSummary()
            let byPartition = Dictionary(grouping: batch) { TopicPartitionKey(topic: $0.position.topic, partition: $0.position.partition) }
            for key in byPartition.keys.sorted() {
                // Lock the partition's offset row: a consumer that lost the partition in a rebalance
                // waits here, then sees the new owner's offsets and writes nothing twice.
                try db.execute("""
                    INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
                    VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING
                    """, [consumerGroup, key.topic, key.partition])
                let stored = try db.query("""
                    SELECT next_offset FROM consumer_offsets
                    WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE
                    """, [consumerGroup, key.topic, key.partition])[0].decode("next_offset", as: Int64.self)
                let messages = byPartition[key]!.sorted { $0.position.offset < $1.position.offset }
                for message in messages {
                    guard message.position.offset >= stored else {
                        summary.alreadyCommitted += 1
                        continue
                    }
                    try write(message, modelID: modelID, db: db, summary: &summary)
                }
                let next = messages.last!.position.offset + 1
                try db.execute("""
                    UPDATE consumer_offsets SET next_offset = $4, updated_at = now()
                    WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 AND next_offset < $4
                    """, [consumerGroup, key.topic, key.partition, next])
            }
            return summary
        }
    }

    private func write(_ message: ProcessedMessage, modelID: String, db: PostgresConnection, summary: inout CommitSummary) throws {
        let position = message.position
        switch message.outcome {
        case .deadLettered(let letter):
            let inserted = try db.query("""
                INSERT INTO dead_letters (event_id, study_instance_uid, topic, kafka_partition, kafka_offset, error_class, reason, payload, message_key)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING
                RETURNING dead_letter_id
                """, [letter.eventID, letter.studyInstanceUID, position.topic, position.partition, position.offset,
                      letter.errorClass, letter.reason, letter.payload, letter.key])
            guard let row = inserted.first else { return }
            summary.deadLettersWritten += 1
            try AuditLog.append(db, action: "event.dead_lettered", studyInstanceUID: letter.studyInstanceUID, eventID: letter.eventID,
                                details: ["dead_letter_id": try row.decode("dead_letter_id", as: Int64.self),
                                          "error_class": letter.errorClass, "reason": letter.reason,
                                          "topic": position.topic, "partition": Int(position.partition), "offset": position.offset])

        case .completed(let event, let receivedAt, let results):
            let series = event.series.count
            try db.execute("""
                INSERT INTO studies (study_instance_uid, accession_number, storage_root, series_count, instance_count, first_event_id, last_processed_at)
                VALUES ($1, $2, $3, $4, $5, $6, now())
                ON CONFLICT (study_instance_uid) DO UPDATE SET last_processed_at = now(),
                    series_count = EXCLUDED.series_count, instance_count = EXCLUDED.instance_count
                """, [event.studyInstanceUID, event.accessionNumber, event.storageRoot, series, event.instanceCount, event.eventID])
            let inferenceMs = results.reduce(0) { $0 + $1.output.milliseconds }
            let job = try db.query("""
                INSERT INTO jobs (event_id, study_instance_uid, topic, kafka_partition, kafka_offset, tasks, model_id, status,
                                  occurred_at, received_at, inference_ms)
                VALUES ($1, $2, $3, $4, $5, $6::text[], $7, 'completed', $8, $9, $10)
                ON CONFLICT (event_id) DO NOTHING
                RETURNING job_id
                """, [event.eventID, event.studyInstanceUID, position.topic, position.partition, position.offset,
                      PostgresArrayLiteral.text(event.tasks.map(\.rawValue)), modelID, event.occurredAt, receivedAt, inferenceMs])
            guard let jobRow = job.first else {
                // The publisher's idempotency key was seen before: a replay or a re-send. Nothing new is
                // written; the audit log notes the delivery.
                summary.duplicateDeliveries += 1
                try AuditLog.append(db, action: "event.duplicate_delivery", studyInstanceUID: event.studyInstanceUID, eventID: event.eventID,
                                    details: ["topic": position.topic, "partition": Int(position.partition), "offset": position.offset])
                return
            }
            let jobID = try jobRow.decode("job_id", as: Int64.self)
            summary.jobsWritten += 1
            var written: [Int64] = []
            var existing: [String] = []
            for result in results {
                let row = try db.query("""
                    INSERT INTO results (job_id, study_instance_uid, task, model_id, prompt_hash, prompt, output_text,
                                         prompt_tokens, generated_tokens, inference_ms)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                    ON CONFLICT (study_instance_uid, task, model_id, prompt_hash) DO NOTHING
                    RETURNING result_id
                    """, [jobID, event.studyInstanceUID, result.task.rawValue, modelID, result.promptHash, result.prompt,
                          result.output.text, result.output.promptTokens, result.output.generatedTokens, result.output.milliseconds])
                if let inserted = row.first {
                    let resultID = try inserted.decode("result_id", as: Int64.self)
                    written.append(resultID)
                    if let finding = result.finding {
                        try db.execute("""
                            INSERT INTO findings (result_id, study_instance_uid, model_id, label, status, prompt, answer)
                            VALUES ($1, $2, $3, $4, $5, $6, $7)
                            """, [resultID, event.studyInstanceUID, modelID, finding.label, finding.status.rawValue, result.prompt, result.output.text])
                    }
                } else {
                    existing.append(result.task.rawValue)
                }
            }
            summary.resultsWritten += written.count
            summary.resultsAlreadyPresent += existing.count
            let report = DiagnosticReportResource.make(event: event, jobID: jobID, modelID: modelID, results: results)
            try db.execute("""
                INSERT INTO diagnostic_reports (job_id, study_instance_uid, model_id, resource) VALUES ($1, $2, $3, $4::jsonb)
                """, [jobID, event.studyInstanceUID, modelID, AuditLog.canonicalJSON(report)])
            try AuditLog.append(db, action: "job.completed", studyInstanceUID: event.studyInstanceUID, eventID: event.eventID, jobID: jobID,
                                details: ["model_id": modelID, "tasks": event.tasks.map(\.rawValue), "result_ids": written,
                                          "results_already_present": existing,
                                          "topic": position.topic, "partition": Int(position.partition), "offset": position.offset])
        }
    }
}

private struct TopicPartitionKey: Hashable, Comparable {
    let topic: String
    let partition: Int32
    static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}

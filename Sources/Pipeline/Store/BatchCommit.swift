import Foundation
import Postgres

/// One batch's writes inside the caller's transaction, one multi-row statement per table: the cost of
/// a commit is a constant number of round trips whatever the batch size. Rows are inserted in the
/// batch's order (partition, then offset), so ids, the duplicate-detection winner and the audit
/// chain come out exactly as if the messages had been written one by one.
struct BatchCommit {
    let db: PostgresConnection
    let consumerGroup: String
    let modelID: String

    func write(_ batch: [ProcessedMessage]) throws -> CommitSummary {
        var summary = CommitSummary()
        let byPartition = Dictionary(grouping: batch) { PartitionKey(topic: $0.position.topic, partition: $0.position.partition) }
        let partitions = byPartition.keys.sorted()
        let stored = try lockOffsets(partitions)
        // The messages to write, in the order they would have been written one by one.
        var live: [ProcessedMessage] = []
        for key in partitions {
            for message in byPartition[key]!.sorted(by: { $0.position.offset < $1.position.offset }) {
                if message.position.offset >= stored[key] ?? 0 { live.append(message) } else { summary.alreadyCommitted += 1 }
            }
        }
        var letters: [(MessagePosition, DeadLetter)] = []
        var completed: [(position: MessagePosition, event: StudyEvent, receivedAt: Date, results: [TaskResult])] = []
        for message in live {
            switch message.outcome {
            case .deadLettered(let letter): letters.append((message.position, letter))
            case .completed(let event, let receivedAt, let results): completed.append((message.position, event, receivedAt, results))
            }
        }
        let deadLetterIDs = try insertDeadLetters(letters)
        try upsertStudies(completed.map(\.event))
        let jobIDs = try insertJobs(completed)

        // Which completed message got which job: the first delivery of an event id in batch order.
        var claimed: Set<String> = []
        var jobs: [(index: Int, jobID: Int64)] = []
        for (index, item) in completed.enumerated() {
            if let jobID = jobIDs[item.event.eventID], claimed.insert(item.event.eventID).inserted { jobs.append((index, jobID)) }
        }
        let jobRows = jobs.map { (event: completed[$0.index].event, jobID: $0.jobID, results: completed[$0.index].results) }
        let resultIDs = try insertResults(jobRows)
        var newResults: [(resultID: Int64, study: String, result: TaskResult)] = []
        for (job, ids) in zip(jobs, resultIDs) {
            let item = completed[job.index]
            for (result, id) in zip(item.results, ids) {
                if let id { newResults.append((id, item.event.studyInstanceUID, result)) }
            }
        }
        try insertFindings(newResults)
        try insertReports(jobRows)

        // Audit rows in batch order, one per message that changed anything or was delivered again.
        var audit: [AuditEntry] = []
        var jobOfCompleted: [Int: (position: Int, id: Int64)] = [:]
        for (position, job) in jobs.enumerated() { jobOfCompleted[job.index] = (position, job.jobID) }
        var completedIndex = 0
        for message in live {
            let position = message.position
            let origin: [String: Any] = ["topic": position.topic, "partition": Int(position.partition), "offset": position.offset]
            switch message.outcome {
            case .deadLettered(let letter):
                guard let id = deadLetterIDs[position] else { continue }
                summary.deadLettersWritten += 1
                audit.append(AuditEntry(action: "event.dead_lettered", studyInstanceUID: letter.studyInstanceUID, eventID: letter.eventID,
                                        details: origin.merging(["dead_letter_id": id, "error_class": letter.errorClass,
                                                                 "reason": letter.reason]) { $1 }))
            case .completed(let event, _, let results):
                defer { completedIndex += 1 }
                guard let job = jobOfCompleted[completedIndex] else {
                    // The publisher's idempotency key was seen before: a replay or a re-send. Nothing new
                    // is written; the audit log notes the delivery.
                    summary.duplicateDeliveries += 1
                    audit.append(AuditEntry(action: "event.duplicate_delivery", studyInstanceUID: event.studyInstanceUID,
                                            eventID: event.eventID, details: origin))
                    continue
                }
                let ids = resultIDs[job.position]
                let written = ids.compactMap { $0 }
                let existing = zip(results, ids).compactMap { $1 == nil ? $0.task.rawValue : nil }
                summary.jobsWritten += 1
                summary.resultsWritten += written.count
                summary.resultsAlreadyPresent += existing.count
                audit.append(AuditEntry(action: "job.completed", studyInstanceUID: event.studyInstanceUID, eventID: event.eventID, jobID: job.id,
                                        details: origin.merging(["model_id": modelID, "tasks": event.tasks.map(\.rawValue),
                                                                 "result_ids": written, "results_already_present": existing]) { $1 }))
            }
        }
        try AuditLog.append(db, audit)
        try advanceOffsets(partitions.map { ($0, byPartition[$0]!.map(\.position.offset).max()! + 1) })
        return summary
    }

    // MARK: Statements

    /// Locks every partition's offset row, in one order for all consumers: a consumer that lost a
    /// partition in a rebalance waits here, then sees the new owner's offsets and writes nothing twice.
    /// A partition's row is created the first time it is committed; afterwards locking is one statement.
    private func lockOffsets(_ partitions: [PartitionKey]) throws -> [PartitionKey: Int64] {
        let topics = PostgresArrayLiteral.values(partitions.map(\.topic))
        let numbers = PostgresArrayLiteral.values(partitions.map(\.partition))
        let stored = try selectOffsetsForUpdate(topics: topics, numbers: numbers)
        guard stored.count < partitions.count else { return stored }
        try db.execute("""
            INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset)
            SELECT $1, u.topic, u.kafka_partition, 0 FROM unnest($2::text[], $3::int[]) AS u(topic, kafka_partition)
            ORDER BY u.topic, u.kafka_partition
            ON CONFLICT DO NOTHING
            """, [consumerGroup, topics, numbers])
        return try selectOffsetsForUpdate(topics: topics, numbers: numbers)
    }

    private func selectOffsetsForUpdate(topics: String, numbers: String) throws -> [PartitionKey: Int64] {
        let rows = try db.query("""
            SELECT o.topic, o.kafka_partition, o.next_offset FROM consumer_offsets o
            JOIN unnest($2::text[], $3::int[]) AS u(topic, kafka_partition)
              ON o.topic = u.topic AND o.kafka_partition = u.kafka_partition
            WHERE o.consumer_group = $1
            ORDER BY o.topic, o.kafka_partition FOR UPDATE OF o
            """, [consumerGroup, topics, numbers])
        var stored: [PartitionKey: Int64] = [:]
        for row in rows {
            let key = PartitionKey(topic: try row.decode("topic", as: String.self), partition: try row.decode("kafka_partition", as: Int32.self))
            stored[key] = try row.decode("next_offset", as: Int64.self)
        }
        return stored
    }

    private func advanceOffsets(_ next: [(PartitionKey, Int64)]) throws {
        try db.execute("""
            UPDATE consumer_offsets o SET next_offset = u.next_offset, updated_at = now()
            FROM unnest($2::text[], $3::int[], $4::bigint[]) AS u(topic, kafka_partition, next_offset)
            WHERE o.consumer_group = $1 AND o.topic = u.topic AND o.kafka_partition = u.kafka_partition
              AND o.next_offset < u.next_offset
            """, [consumerGroup, PostgresArrayLiteral.values(next.map(\.0.topic)), PostgresArrayLiteral.values(next.map(\.0.partition)),
                  PostgresArrayLiteral.values(next.map(\.1))])
    }

    /// The id of each dead letter written now; positions already recorded (a replay) are absent.
    private func insertDeadLetters(_ letters: [(MessagePosition, DeadLetter)]) throws -> [MessagePosition: Int64] {
        guard !letters.isEmpty else { return [:] }
        let rows = try db.query("""
            INSERT INTO dead_letters (event_id, study_instance_uid, topic, kafka_partition, kafka_offset, error_class, reason, payload, message_key)
            SELECT u.event_id, u.study, u.topic, u.kafka_partition, u.kafka_offset, u.error_class, u.reason, u.payload, u.message_key
            FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::text[], $8::bytea[], $9::bytea[])
                 WITH ORDINALITY AS u(event_id, study, topic, kafka_partition, kafka_offset, error_class, reason, payload, message_key, n)
            ORDER BY u.n
            ON CONFLICT (topic, kafka_partition, kafka_offset) DO NOTHING
            RETURNING dead_letter_id, topic, kafka_partition, kafka_offset
            """, [PostgresArrayLiteral.values(letters.map(\.1.eventID)), PostgresArrayLiteral.values(letters.map(\.1.studyInstanceUID)),
                  PostgresArrayLiteral.values(letters.map(\.0.topic)), PostgresArrayLiteral.values(letters.map(\.0.partition)),
                  PostgresArrayLiteral.values(letters.map(\.0.offset)), PostgresArrayLiteral.values(letters.map(\.1.errorClass)),
                  PostgresArrayLiteral.values(letters.map(\.1.reason)), PostgresArrayLiteral.values(letters.map(\.1.payload)),
                  PostgresArrayLiteral.values(letters.map(\.1.key))])
        var ids: [MessagePosition: Int64] = [:]
        for row in rows {
            let position = MessagePosition(topic: try row.decode("topic", as: String.self), partition: try row.decode("kafka_partition", as: Int32.self),
                                           offset: try row.decode("kafka_offset", as: Int64.self))
            ids[position] = try row.decode("dead_letter_id", as: Int64.self)
        }
        return ids
    }

    /// One row per study (a study may occur twice in a batch): first seen by its first event, counts
    /// from its last, as successive single-row upserts would leave it. Sorted by UID so concurrent
    /// consumers lock study rows in one order.
    private func upsertStudies(_ events: [StudyEvent]) throws {
        guard !events.isEmpty else { return }
        var first: [String: StudyEvent] = [:]
        var last: [String: StudyEvent] = [:]
        for event in events {
            if first[event.studyInstanceUID] == nil { first[event.studyInstanceUID] = event }
            last[event.studyInstanceUID] = event
        }
        let uids = first.keys.sorted()
        try db.execute("""
            INSERT INTO studies (study_instance_uid, accession_number, storage_root, series_count, instance_count, first_event_id, last_processed_at)
            SELECT u.uid, u.accession, u.root, u.series, u.instances, u.event_id, now()
            FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::text[]) AS u(uid, accession, root, series, instances, event_id)
            ORDER BY u.uid
            ON CONFLICT (study_instance_uid) DO UPDATE SET last_processed_at = now(),
                series_count = EXCLUDED.series_count, instance_count = EXCLUDED.instance_count
            """, [PostgresArrayLiteral.values(uids), PostgresArrayLiteral.values(uids.map { first[$0]!.accessionNumber }),
                  PostgresArrayLiteral.values(uids.map { first[$0]!.storageRoot }), PostgresArrayLiteral.values(uids.map { last[$0]!.series.count }),
                  PostgresArrayLiteral.values(uids.map { last[$0]!.instanceCount }), PostgresArrayLiteral.values(uids.map { first[$0]!.eventID })])
    }

    /// The job id of each event id written now; event ids seen before (replays, re-sends) are absent.
    private func insertJobs(_ completed: [(position: MessagePosition, event: StudyEvent, receivedAt: Date, results: [TaskResult])]) throws -> [String: Int64] {
        guard !completed.isEmpty else { return [:] }
        let rows = try db.query("""
            INSERT INTO jobs (event_id, study_instance_uid, topic, kafka_partition, kafka_offset, tasks, model_id, status,
                              occurred_at, received_at, inference_ms)
            SELECT u.event_id, u.study, u.topic, u.kafka_partition, u.kafka_offset, u.tasks::text[], $1, 'completed',
                   u.occurred_at, u.received_at, u.inference_ms
            FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::timestamptz[], $9::timestamptz[],
                        $10::float8[]) WITH ORDINALITY
                 AS u(event_id, study, topic, kafka_partition, kafka_offset, tasks, occurred_at, received_at, inference_ms, n)
            ORDER BY u.n
            ON CONFLICT (event_id) DO NOTHING
            RETURNING job_id, event_id
            """, [modelID, PostgresArrayLiteral.values(completed.map(\.event.eventID)),
                  PostgresArrayLiteral.values(completed.map(\.event.studyInstanceUID)), PostgresArrayLiteral.values(completed.map(\.position.topic)),
                  PostgresArrayLiteral.values(completed.map(\.position.partition)), PostgresArrayLiteral.values(completed.map(\.position.offset)),
                  // Each row's tasks travel as that row's own array literal, cast per row.
                  PostgresArrayLiteral.values(completed.map { PostgresArrayLiteral.text($0.event.tasks.map(\.rawValue)) }),
                  PostgresArrayLiteral.values(completed.map(\.event.occurredAt)), PostgresArrayLiteral.values(completed.map(\.receivedAt)),
                  PostgresArrayLiteral.values(completed.map { $0.results.reduce(0) { $0 + $1.output.milliseconds } })])
        var ids: [String: Int64] = [:]
        for row in rows { ids[try row.decode("event_id", as: String.self)] = try row.decode("job_id", as: Int64.self) }
        return ids
    }

    /// For each job, each result's new id, or nil where the same result (study, task, model, prompt)
    /// already existed.
    private func insertResults(_ jobs: [(event: StudyEvent, jobID: Int64, results: [TaskResult])]) throws -> [[Int64?]] {
        let rows = jobs.flatMap { job in job.results.map { (job.event.studyInstanceUID, job.jobID, $0) } }
        guard !rows.isEmpty else { return jobs.map { _ in [] } }
        let inserted = try db.query("""
            INSERT INTO results (job_id, study_instance_uid, task, model_id, prompt_hash, prompt, output_text,
                                 prompt_tokens, generated_tokens, inference_ms)
            SELECT u.job_id, u.study, u.task, $1, u.prompt_hash, u.prompt, u.output_text, u.prompt_tokens, u.generated_tokens, u.inference_ms
            FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[], $10::float8[])
                 WITH ORDINALITY AS u(job_id, study, task, prompt_hash, prompt, output_text, prompt_tokens, generated_tokens, inference_ms, n)
            ORDER BY u.n
            ON CONFLICT (study_instance_uid, task, model_id, prompt_hash) DO NOTHING
            RETURNING result_id, study_instance_uid, task, prompt_hash
            """, [modelID, PostgresArrayLiteral.values(rows.map(\.1)), PostgresArrayLiteral.values(rows.map(\.0)),
                  PostgresArrayLiteral.values(rows.map(\.2.task.rawValue)), PostgresArrayLiteral.values(rows.map(\.2.promptHash)),
                  PostgresArrayLiteral.values(rows.map(\.2.prompt)), PostgresArrayLiteral.values(rows.map(\.2.output.text)),
                  PostgresArrayLiteral.values(rows.map(\.2.output.promptTokens)), PostgresArrayLiteral.values(rows.map(\.2.output.generatedTokens)),
                  PostgresArrayLiteral.values(rows.map(\.2.output.milliseconds))])
        var ids: [ResultKey: Int64] = [:]
        for row in inserted {
            let key = ResultKey(study: try row.decode("study_instance_uid", as: String.self), task: try row.decode("task", as: String.self),
                                promptHash: try row.decode("prompt_hash", as: String.self))
            ids[key] = try row.decode("result_id", as: Int64.self)
        }
        // The first row of a key in batch order is the one that was inserted; later ones found it present.
        return jobs.map { job in
            job.results.map { result in
                ids.removeValue(forKey: ResultKey(study: job.event.studyInstanceUID, task: result.task.rawValue, promptHash: result.promptHash))
            }
        }
    }

    private func insertFindings(_ findings: [(resultID: Int64, study: String, result: TaskResult)]) throws {
        let rows = findings.compactMap { item in item.result.finding.map { (item.resultID, item.study, item.result, $0) } }
        guard !rows.isEmpty else { return }
        try db.execute("""
            INSERT INTO findings (result_id, study_instance_uid, model_id, label, status, prompt, answer)
            SELECT u.result_id, u.study, $1, u.label, u.status, u.prompt, u.answer
            FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(result_id, study, label, status, prompt, answer)
            """, [modelID, PostgresArrayLiteral.values(rows.map(\.0)), PostgresArrayLiteral.values(rows.map(\.1)),
                  PostgresArrayLiteral.values(rows.map(\.3.label)), PostgresArrayLiteral.values(rows.map(\.3.status.rawValue)),
                  PostgresArrayLiteral.values(rows.map(\.2.prompt)), PostgresArrayLiteral.values(rows.map(\.2.output.text))])
    }

    private func insertReports(_ jobs: [(event: StudyEvent, jobID: Int64, results: [TaskResult])]) throws {
        guard !jobs.isEmpty else { return }
        let timestamp = DiagnosticReportResource.timestampFormatter()
        let issued = timestamp.string(from: Date())
        let resources = jobs.map { job in
            DiagnosticReportResource.json(event: job.event, jobID: job.jobID, modelID: modelID, results: job.results,
                                          issued: issued, timestamp: timestamp)
        }
        // The resources travel as one JSON array, parsed once, rather than as a text array whose every
        // quote is escaped here and unescaped there before each element is parsed again: for 256
        // resources of 1.3 KB the server took 7-9 ms instead of 9-14.
        try db.execute("""
            INSERT INTO diagnostic_reports (job_id, study_instance_uid, model_id, resource)
            SELECT u.job_id, u.study, $1, r.resource
            FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS u(job_id, study, n)
            JOIN jsonb_array_elements($4::jsonb) WITH ORDINALITY AS r(resource, n) USING (n)
            """, [modelID, PostgresArrayLiteral.values(jobs.map(\.jobID)), PostgresArrayLiteral.values(jobs.map(\.event.studyInstanceUID)),
                  "[" + resources.joined(separator: ",") + "]"])
    }
}

struct PartitionKey: Hashable, Comparable {
    let topic: String
    let partition: Int32
    static func < (a: Self, b: Self) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
}

private struct ResultKey: Hashable {
    let study: String
    let task: String
    let promptHash: String
}

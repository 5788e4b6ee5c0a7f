import Foundation
import Postgres

/// The append-only audit trail. The database trigger assigns each row its sequence number, time,
/// actor and SHA-256 chain link; `verify` recomputes the chain on this side, independently.
public enum AuditLog {
    public static func append(_ db: PostgresConnection, action: String, studyInstanceUID: String? = nil, eventID: String? = nil,
                              jobID: Int64? = nil, details: [String: Any] = [:]) throws {
        try db.execute("""
            INSERT INTO audit_log (action, study_instance_uid, event_id, job_id, details) VALUES ($1, $2, $3, $4, $5::jsonb)
            """, [action, studyInstanceUID, eventID, jobID, CanonicalJSON.text(details)])
    }

    /// Appends rows in the given order with one statement; the chain trigger links them in that order.
    static func append(_ db: PostgresConnection, _ entries: [AuditEntry]) throws {
        guard !entries.isEmpty else { return }
        try db.execute("""
            INSERT INTO audit_log (action, study_instance_uid, event_id, job_id, details)
            SELECT u.action, u.study, u.event_id, u.job_id, u.details::jsonb
            FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY AS u(action, study, event_id, job_id, details, n)
            ORDER BY u.n
            """, [PostgresArrayLiteral.values(entries.map(\.action)), PostgresArrayLiteral.values(entries.map(\.studyInstanceUID)),
                  PostgresArrayLiteral.values(entries.map(\.eventID)), PostgresArrayLiteral.values(entries.map(\.jobID)),
                  PostgresArrayLiteral.values(entries.map { CanonicalJSON.text($0.details) })])
    }

    public struct VerificationReport: Sendable, Equatable {
        public var rowsChecked = 0
        /// The first row whose stored link or hash does not match what its content implies.
        public var firstBrokenSeq: Int64?
        public var problem: String?
        public var isIntact: Bool { firstBrokenSeq == nil }
    }

    /// Walks the chain in sequence order, a page at a time, recomputing every hash.
    public static func verify(_ db: PostgresConnection, pageSize: Int = 5_000) throws -> VerificationReport {
        var report = VerificationReport()
        var previousHash = String(repeating: "0", count: 64)
        var expectedSeq: Int64 = 1
        while true {
            let rows = try db.query("""
                SELECT seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, action,
                       coalesce(study_instance_uid, '') AS study, coalesce(event_id, '') AS event, coalesce(job_id::text, '') AS job,
                       details::text AS details, prev_hash, hash
                FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2
                """, [expectedSeq, pageSize])
            if rows.isEmpty { break }
            for row in rows {
                let seq = try row.decode("seq", as: Int64.self)
                let prev = row["prev_hash"] ?? ""
                let stored = row["hash"] ?? ""
                func broken(_ problem: String) -> VerificationReport {
                    report.firstBrokenSeq = seq
                    report.problem = problem
                    return report
                }
                guard seq == expectedSeq else { return broken("row \(expectedSeq) is missing (next row is \(seq))") }
                guard prev == previousHash else { return broken("prev_hash does not match the hash of row \(seq - 1)") }
                let text = [String(seq), row["at"] ?? "", row["actor"] ?? "", row["action"] ?? "", row["study"] ?? "",
                            row["event"] ?? "", row["job"] ?? "", row["details"] ?? "", prev].joined(separator: "|")
                guard SHA256.hex(text) == stored else { return broken("hash does not match the row's content") }
                previousHash = stored
                expectedSeq = seq + 1
                report.rowsChecked += 1
            }
        }
        let head = try db.query("SELECT seq, hash FROM audit_head WHERE id = 1")
        if let row = head.first {
            let headSeq = try row.decode("seq", as: Int64.self)
            if headSeq != expectedSeq - 1 || row["hash"] != previousHash {
                report.firstBrokenSeq = expectedSeq
                report.problem = "the chain head (seq \(headSeq)) does not match the last row (seq \(expectedSeq - 1)): rows were removed"
            }
        }
        return report
    }
}

/// One audit row before the chain trigger gives it its sequence number, time, actor and hash.
struct AuditEntry {
    let action: String
    var studyInstanceUID: String? = nil
    var eventID: String? = nil
    var jobID: Int64? = nil
    var details: [String: Any] = [:]
}

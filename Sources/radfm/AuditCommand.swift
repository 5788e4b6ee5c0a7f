import ArgumentParser
import Foundation
import Pipeline
import Postgres

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit-trail tools.",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the audit_log hash chain and report the first broken link (exit status 1 when broken).")

        @OptionGroup var options: ServiceOptions

        func run() throws {
            let settings = try options.settings()
            let db = try PostgresConnection(url: try settings.requireDatabaseURL(), applicationName: "radfm audit verify")
            defer { db.close() }
            let report = try AuditLog.verify(db)
            if report.isIntact {
                print("audit: chain intact (\(report.rowsChecked) rows)")
            } else {
                print("audit: chain BROKEN at seq \(report.firstBrokenSeq!): \(report.problem ?? "") (\(report.rowsChecked) rows verified before it)")
                throw ExitCode(1)
            }
        }
    }
}

import ArgumentParser
import Foundation
import Postgres

struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the SQL migrations in order (safe to run twice and from several processes at once).",
        discussion: "Each applied file is recorded with its SHA-256; a file changed after it was applied is refused.")

    @OptionGroup var options: ServiceOptions

    @Option(name: .long, help: "Folder of NNNN_name.sql files (default: Migrations/ beside the executable's package, else ./Migrations).")
    var migrations: String?

    @Flag(name: .long, help: "List migrations and whether each is applied; change nothing.")
    var status = false

    func run() throws {
        let settings = try options.settings()
        let logger = try options.logger("radfm.migrate")
        let directory = try MigrationsLocation.resolve(migrations)
        let db = try PostgresConnection(url: try settings.requireDatabaseURL(), applicationName: "radfm migrate")
        defer { db.close() }
        let migrator = Migrator(directory: directory, logger: logger)
        if status {
            for (migration, applied) in try migrator.status(db) {
                print(String(format: "%04d  %@  %@", migration.version, applied ? "applied" : "pending", migration.name))
            }
            return
        }
        let applied = try migrator.migrate(db)
        if applied.isEmpty {
            print("migrate: database is up to date")
        } else {
            for migration in applied { print(String(format: "migrate: applied %04d %@", migration.version, migration.name)) }
        }
    }
}

enum MigrationsLocation {
    /// An explicit folder, else ./Migrations, else the Migrations folder of the package this
    /// executable was built from (so `radfm migrate` works from any directory of a checkout).
    static func resolve(_ explicit: String?) throws -> URL {
        if let explicit { return URL(fileURLWithPath: explicit, isDirectory: true) }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Migrations")]
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            dir = dir.deletingLastPathComponent()
            candidates.append(dir.appendingPathComponent("Migrations"))
        }
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue { return candidate }
        }
        throw ValidationError("cannot find the Migrations folder; pass --migrations PATH")
    }
}

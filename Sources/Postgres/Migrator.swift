import Foundation
import Logging

/// A migration as recorded in `schema_migrations` (or, when pending, as found on disk).
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    /// SHA-256 hex of the file's bytes.
    public let checksum: String
}

/// Brings a database schema up to date from numbered SQL files.
public struct Migrator {
    private let directory: URL
    private let logger: Logger

    /// The session advisory lock held for a whole run, so that processes starting together take turns
    /// (visible in pg_locks while a run is in progress). "radfm_mg" in ASCII: fixed, and unlikely to
    /// collide with another application's key.
    public static let advisoryLockKey: Int64 = 0x7261_6466_6d5f_6d67

    public init(directory: URL, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Applies `Migrations/NNNN_name.sql` files in numeric order, each in its own transaction together
    /// with its row in `schema_migrations(version, name, checksum, applied_at)`. Running it again, or
    /// from two processes at once, applies nothing twice. Refuses (MigrationError) malformed file names,
    /// duplicate versions, applied files whose content changed, applied versions whose file is gone, and
    /// new files numbered below the latest applied one. Returns the migrations applied by this call.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> [AppliedMigration] {
        let files = try MigrationFile.load(from: directory)
        try connection.execute("SELECT pg_advisory_lock($1)", [Self.advisoryLockKey])
        defer { unlock(connection) }
        // Checked first rather than CREATE TABLE IF NOT EXISTS, whose "already exists" notice every run
        // would log; the lock makes check-then-create safe.
        if try !hasMigrationsTable(connection) {
            try connection.execute("""
                CREATE TABLE schema_migrations (
                    version int PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        let applied = try appliedMigrations(connection)
        let pending = try pendingFiles(files, applied: applied)
        var newlyApplied: [AppliedMigration] = []
        for file in pending {
            try apply(file, on: connection)
            newlyApplied.append(file.migration)
            logger.info("applied migration", metadata: ["version": "\(file.version)", "file": "\(file.fileName)"])
        }
        if newlyApplied.isEmpty {
            logger.info("database schema is up to date", metadata: ["version": "\(applied.keys.max() ?? 0)"])
        }
        return newlyApplied
    }

    /// Every migration file with whether it has been applied, after the same checks as `migrate`.
    /// Creates nothing: a database never migrated shows every file as pending.
    public func status(_ connection: PostgresConnection) throws -> [(migration: AppliedMigration, applied: Bool)] {
        let files = try MigrationFile.load(from: directory)
        let applied = try hasMigrationsTable(connection) ? try appliedMigrations(connection) : [:]
        _ = try pendingFiles(files, applied: applied)
        return files.map { (migration: $0.migration, applied: applied[$0.version] != nil) }
    }

    private func hasMigrationsTable(_ connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
            .first?.decode("present", as: Bool.self) ?? false
    }

    private func appliedMigrations(_ connection: PostgresConnection) throws -> [Int: AppliedMigration] {
        let rows = try connection.query("SELECT version, name, checksum FROM schema_migrations")
        var applied: [Int: AppliedMigration] = [:]
        for row in rows {
            let migration = AppliedMigration(
                version: try row.decode("version"), name: try row.decode("name"), checksum: try row.decode("checksum"))
            applied[migration.version] = migration
        }
        return applied
    }

    /// The files still to apply, after checking that the applied ones are exactly what is on disk.
    private func pendingFiles(_ files: [MigrationFile], applied: [Int: AppliedMigration]) throws -> [MigrationFile] {
        let filesByVersion = Dictionary(uniqueKeysWithValues: files.map { ($0.version, $0) })
        for migration in applied.values.sorted(by: { $0.version < $1.version }) {
            guard let file = filesByVersion[migration.version] else {
                throw MigrationError(
                    .fileMissing, file: "version \(migration.version)",
                    "the database has version \(migration.version) (\(migration.name)) applied but \(directory.path) has no file for it")
            }
            guard file.checksum == migration.checksum else {
                throw MigrationError(
                    .checksumChanged, file: file.fileName,
                    "migration \(file.fileName) was changed after it was applied: stored checksum \(migration.checksum), "
                        + "file checksum \(file.checksum); add a new migration instead of editing an applied one")
            }
        }
        let pending = files.filter { applied[$0.version] == nil }
        if let latest = applied.keys.max(), let early = pending.first(where: { $0.version < latest }) {
            throw MigrationError(
                .outOfOrder, file: early.fileName,
                "migration \(early.fileName) is numbered below version \(latest), which is already applied; renumber it")
        }
        return pending
    }

    private func apply(_ file: MigrationFile, on connection: PostgresConnection) throws {
        try connection.transaction { connection in
            do {
                try connection.executeScript(file.sql)
            } catch let error as PostgresError {
                throw MigrationError(
                    .statementFailed, file: file.fileName, "migration \(file.fileName) failed and was rolled back: \(error)",
                    underlying: error)
            }
            guard connection.transactionState == .inTransaction else {
                throw MigrationError(
                    .endedTransaction, file: file.fileName,
                    "migration \(file.fileName) ends the transaction it runs in (COMMIT or ROLLBACK); remove those statements")
            }
            try connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, now())",
                [file.version, file.name, file.checksum])
        }
    }

    /// Also runs after a failure; on a dead connection the server has dropped the lock with the session.
    private func unlock(_ connection: PostgresConnection) {
        do {
            try connection.execute("SELECT pg_advisory_unlock($1)", [Self.advisoryLockKey])
        } catch {
            logger.warning("could not release the migration lock; it ends with the session", metadata: ["error": "\(error)"])
        }
    }
}

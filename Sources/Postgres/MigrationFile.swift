import Foundation

/// One `Migrations/NNNN_name.sql` file, read and checksummed.
struct MigrationFile {
    let version: Int
    let name: String
    let fileName: String
    let sql: String
    /// SHA-256 hex of the file's bytes, as stored in `schema_migrations.checksum`.
    let checksum: String

    var migration: AppliedMigration { AppliedMigration(version: version, name: name, checksum: checksum) }

    /// Every `.sql` file of `directory` ordered by version; other files (README, editor backups) are
    /// ignored. Refuses malformed names and duplicate versions.
    static func load(from directory: URL) throws -> [MigrationFile] {
        let fileNames: [String]
        do {
            fileNames = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(.unreadable, file: directory.path, "cannot list migrations directory \(directory.path): \(error)", underlying: error)
        }
        let files = try fileNames.filter { $0.hasSuffix(".sql") && !$0.hasPrefix(".") }.map { fileName in
            try read(fileName, in: directory)
        }
        let sorted = files.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError(
                .duplicateVersion, file: next.fileName,
                "migrations \(previous.fileName) and \(next.fileName) share version \(next.version)")
        }
        return sorted
    }

    private static func read(_ fileName: String, in directory: URL) throws -> MigrationFile {
        let stem = fileName.dropLast(".sql".count)
        guard let separator = stem.firstIndex(of: "_"),
              stem[..<separator].allSatisfy({ $0.isASCII && $0.isNumber }),
              let version = Int(stem[..<separator]),
              stem.index(after: separator) < stem.endIndex
        else {
            throw MigrationError(
                .malformedFileName, file: fileName,
                "migration file \(fileName) is not named NNNN_name.sql (a version number, an underscore, a name)")
        }
        let url = directory.appendingPathComponent(fileName)
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw MigrationError(.unreadable, file: fileName, "cannot read migration \(url.path): \(error)", underlying: error)
        }
        guard let sql = String(bytes: bytes, encoding: .utf8) else {
            throw MigrationError(.unreadable, file: fileName, "migration \(url.path) is not valid UTF-8")
        }
        return MigrationFile(
            version: version, name: String(stem[stem.index(after: separator)...]), fileName: fileName, sql: sql,
            checksum: SHA256.hex(bytes))
    }
}

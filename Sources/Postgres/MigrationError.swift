/// Why the migrator refused to run or stopped. Each names the file (or version) concerned.
public struct MigrationError: Error, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A `.sql` file whose name is not `NNNN_name.sql`.
        case malformedFileName
        /// Two files with the same version number.
        case duplicateVersion
        /// An applied migration's file no longer has the content that was applied.
        case checksumChanged
        /// The database records a version that has no file.
        case fileMissing
        /// A pending file numbered below a version already applied (probably a merge mistake).
        case outOfOrder
        /// The file could not be read, or is not UTF-8.
        case unreadable
        /// The file's SQL failed; the migration was rolled back and not recorded.
        case statementFailed
        /// The file committed or rolled back the migrator's transaction itself.
        case endedTransaction
    }

    public let kind: Kind
    /// The migration file's name (e.g. "0002_results.sql"), or "version N" when the file is missing.
    public let file: String
    public let description: String
    /// The database error behind `.statementFailed`, or the file system error behind `.unreadable`.
    public let underlying: Error?

    init(_ kind: Kind, file: String, _ description: String, underlying: Error? = nil) {
        self.kind = kind
        self.file = file
        self.description = description
        self.underlying = underlying
    }
}

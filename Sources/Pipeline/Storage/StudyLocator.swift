import Foundation

/// The syntactic rules every event path must satisfy before the file system is touched.
public enum StoragePathRules {
    /// nil when the relative path is acceptable, else the reason it is not.
    public static func problem(with path: String) -> String? {
        if path.isEmpty { return "empty path" }
        if path.utf8.count > 1024 { return "path longer than 1024 bytes" }
        if path.hasPrefix("/") { return "absolute paths are not allowed" }
        if path.utf8.contains(0) { return "path contains a NUL byte" }
        if path.contains("\\") { return "backslashes are not allowed" }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component == ".." { return "'..' is not allowed" }
            if component.isEmpty || component == "." { return "empty or '.' path component" }
        }
        return nil
    }
}

public struct StorageError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable { case unknownRoot, unsafePath, escapesRoot, missingFile, notAFile }
    public let kind: Kind
    public let root: String
    public let path: String
    public let message: String
    public var description: String { "\(root):\(path): \(message)" }
}

/// Resolves event paths under the configured named storage roots. A path is accepted only when its
/// fully resolved location (symbolic links followed) stays inside the resolved root.
public struct StudyLocator: Sendable {
    private let roots: [String: String]   // name -> resolved absolute directory

    public init(roots: [String: String]) {
        var resolved: [String: String] = [:]
        for (name, path) in roots { resolved[name] = Self.realPath(path) ?? path }
        self.roots = resolved
    }

    public var rootNames: [String] { roots.keys.sorted() }

    public func rootDirectory(_ name: String) throws -> String {
        guard let dir = roots[name] else {
            throw StorageError(kind: .unknownRoot, root: name, path: "", message: "unknown storage root (configured: \(rootNames.joined(separator: ", ")))")
        }
        return dir
    }

    public func resolve(root name: String, path: String) throws -> String {
        let dir = try rootDirectory(name)
        if let problem = StoragePathRules.problem(with: path) {
            throw StorageError(kind: .unsafePath, root: name, path: path, message: problem)
        }
        let joined = dir + "/" + path
        guard let real = Self.realPath(joined) else {
            throw StorageError(kind: .missingFile, root: name, path: path, message: "file not found")
        }
        guard real.hasPrefix(dir == "/" ? "/" : dir + "/") else {
            throw StorageError(kind: .escapesRoot, root: name, path: path, message: "resolves outside the storage root")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: real, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw StorageError(kind: .notAFile, root: name, path: path, message: "not a regular file")
        }
        return real
    }

    /// The path relative to a root, for files found by walking it (backfill).
    public func relativePath(of absolute: String, root name: String) throws -> String {
        let dir = try rootDirectory(name)
        guard absolute.hasPrefix(dir + "/") else {
            throw StorageError(kind: .escapesRoot, root: name, path: absolute, message: "not under the storage root")
        }
        return String(absolute.dropFirst(dir.count + 1))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

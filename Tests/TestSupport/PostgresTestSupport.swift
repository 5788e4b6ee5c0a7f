import Foundation
import Postgres
import XCTest

/// A throwaway database per test case on the server named by `RADFM_TEST_DATABASE_URL`
/// (e.g. postgresql://postgres@127.0.0.1:55499/postgres, a role allowed to CREATE DATABASE), so tests
/// never see each other's tables and can run against a shared server.
public enum PostgresTestDatabase {
    public static let serverVariable = "RADFM_TEST_DATABASE_URL"

    /// Creates `radfm_test_<random>` and returns its URL and a closure that drops it (call it in
    /// tearDown). Throws XCTSkip when no server is configured; in CI (env `CI` set) that is a failure.
    public static func create(file: StaticString = #filePath, line: UInt = #line) throws -> (url: String, drop: () -> Void) {
        let serverURL = try configuredServerURL(file: file, line: line)
        let name = "radfm_test_" + String(UInt64.random(in: .min ... .max), radix: 16)
        let admin = try PostgresConnection(url: serverURL, applicationName: "radfm-tests")
        defer { admin.close() }
        // A database name cannot be a bind parameter; this one is made of [a-z0-9_] only.
        try admin.execute("CREATE DATABASE \(name)")
        return (url: url(of: name, on: serverURL), drop: { drop(name, on: serverURL) })
    }

    private static func configuredServerURL(file: StaticString, line: UInt) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment[serverVariable], !url.isEmpty { return url }
        let message = "\(serverVariable) is not set: no PostgreSQL server to test against"
        if environment["CI"] != nil {
            XCTFail(message + " (required in CI)", file: file, line: line)
            throw NotConfigured(description: message)
        }
        throw XCTSkip(message, file: file, line: line)
    }

    /// The same server and credentials, another database: a URI gets a new path, a key=value string
    /// a trailing dbname (the last occurrence of a key wins in libpq).
    private static func url(of database: String, on serverURL: String) -> String {
        if serverURL.hasPrefix("postgres://") || serverURL.hasPrefix("postgresql://"),
           var components = URLComponents(string: serverURL) {
            components.path = "/" + database
            if let url = components.string { return url }
        }
        return serverURL + " dbname=" + database
    }

    private static func drop(_ database: String, on serverURL: String) {
        do {
            let admin = try PostgresConnection(url: serverURL, applicationName: "radfm-tests")
            defer { admin.close() }
            // FORCE ends sessions a test left open (or that a test killed and libpq has not noticed).
            try admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
        } catch {
            FileHandle.standardError.write(Data("could not drop test database \(database): \(error)\n".utf8))
        }
    }

    private struct NotConfigured: Error, CustomStringConvertible {
        let description: String
    }
}

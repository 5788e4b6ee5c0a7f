import Foundation
import XCTest

/// `radfm serve` as a separate process, so tests can SIGKILL it the way an OOM killer or a node
/// failure would.
final class ServeProcess {
    let process = Process()
    let logURL: URL

    /// `staticMember` gives the process a Kafka static group membership id (KIP-345): a restarted
    /// process with the same id takes its predecessor's place at once instead of waiting for the
    /// group to notice the crash, as a StatefulSet pod would.
    init(harness: PipelineHarness, model: URL, name: String, batchSize: Int = 8, staticMember: String? = nil) throws {
        logURL = harness.storageRoot.deletingLastPathComponent().appendingPathComponent("\(harness.topic)-\(name).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        process.executableURL = CommandLineTests.executable
        process.arguments = ["serve", "--model", model.path, "--batch-size", "\(batchSize)", "--max-new-tokens", "4", "--listen", ""]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("RADFM_") }
        environment["RADFM_DATABASE_URL"] = harness.databaseURL
        environment["RADFM_KAFKA_BROKERS"] = harness.brokers
        environment["RADFM_KAFKA_GROUP"] = harness.settings.kafkaGroup
        environment["RADFM_TOPIC"] = harness.topic
        environment["RADFM_STORAGE_ROOTS"] = "archive=\(harness.storageRoot.path)"
        // A killed member is noticed after the session timeout; keep it short so takeovers are quick.
        environment["RADFM_KAFKA_SESSION_TIMEOUT_MS"] = "6000"
        environment["RADFM_KAFKA_HEARTBEAT_INTERVAL_MS"] = "500"
        environment["RADFM_KAFKA_TOPIC_METADATA_REFRESH_INTERVAL_MS"] = "1000"
        if let staticMember { environment["RADFM_KAFKA_GROUP_INSTANCE_ID"] = staticMember }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait: the graceful path.
    func terminate(timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line) {
        guard process.isRunning else { return }
        process.terminate()
        let until = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < until { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            XCTFail("radfm serve did not stop within \(Int(timeout)) s of SIGTERM", file: file, line: line)
            kill()
        }
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }
}

/// A tiny RadFM with random weights, made once per test run with `radfm model init`.
enum TinyModel {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: URL?

    static func directory() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let root = PipelineHarness.repositoryRoot
        let tokenizer = root.deletingLastPathComponent().appendingPathComponent("shared/radfm/tokenizer.model")
        guard FileManager.default.fileExists(atPath: tokenizer.path) else {
            XCTFail("RadFM's tokenizer.model is expected at \(tokenizer.path) (the shared/ folder beside the checkout)")
            throw XCTSkip("no tokenizer")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("radfm-tiny-\(UUID().uuidString)")
        let process = Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = ["model", "init", "--config", root.appendingPathComponent("Config/models/radfm-tiny.json").path,
                             "--tokenizer", tokenizer.path, "--out", out.path, "--seed", "1"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("radfm model init failed") }
        made = out
        return out
    }
}

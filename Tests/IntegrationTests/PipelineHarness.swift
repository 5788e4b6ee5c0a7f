import Foundation
import Kafka
import Logging
import Pipeline
import Postgres
import TestSupport
import XCTest

/// Real PostgreSQL + real broker for one test: a fresh migrated database, fresh topics, a storage
/// root of synthetic studies made from a real DICOM file, and helpers to run `StudyConsumerService`
/// in-process and to watch what it wrote.
final class PipelineHarness {
    let databaseURL: String
    private let dropDatabase: () -> Void
    let brokers: String
    let topic: String
    let storageRoot: URL
    let db: PostgresConnection
    var settings: RadFMSettings
    let logger: Logger
    private(set) var studies: [SampleStudy] = []

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    init(partitions: Int = 3, file: StaticString = #filePath, line: UInt = #line) throws {
        let database = try PostgresTestDatabase.create(file: file, line: line)
        databaseURL = database.url
        dropDatabase = database.drop
        brokers = try KafkaTestBroker.brokers(file: file, line: line)
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        topic = "radfm.it.\(suffix).v1"
        storageRoot = FileManager.default.temporaryDirectory.appendingPathComponent("radfm-it-\(suffix)")
        try FileManager.default.createDirectory(at: storageRoot, withIntermediateDirectories: true)
        var logger = Logger(label: "radfm.it")
        logger.logLevel = ProcessInfo.processInfo.environment["RADFM_TEST_LOG"] != nil ? .debug : .warning
        self.logger = logger

        db = try PostgresConnection(url: databaseURL, applicationName: "radfm-it")
        _ = try Migrator(directory: Self.repositoryRoot.appendingPathComponent("Migrations"), logger: logger).migrate(db)

        let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers), logger: logger)
        try admin.createTopic(topic, partitions: partitions)
        try admin.createTopic(topic + ".dlq", partitions: 1)

        settings = RadFMSettings()
        settings.databaseURL = databaseURL
        settings.kafkaBrokers = brokers
        settings.topic = topic
        settings.kafkaGroup = "radfm-it-\(suffix)"
        settings.storageRoots = ["archive": storageRoot.path]
        settings.batchSize = 8
        settings.batchWaitMilliseconds = 50
        settings.retryInitialMilliseconds = 50
        settings.retryMaxMilliseconds = 1_000
        settings.kafkaSettings = ["topic.metadata.refresh.interval.ms": "1000"]
    }

    deinit {
        db.close()
        dropDatabase()
        try? FileManager.default.removeItem(at: storageRoot)
    }

    /// Writes `count` studies of `instances` real-pixel DICOM files each under the storage root.
    func makeStudies(count: Int, instances: Int = 1) throws {
        let script = Self.repositoryRoot.appendingPathComponent("Deploy/local/make-sample-studies.py").path
        let out = storageRoot.appendingPathComponent("batch\(studies.count)")
        try run("/usr/bin/env", ["python3", script, "synthetic", out.path, "--count", "\(count)", "--instances", "\(instances)"])
        studies += try SampleStudy.load(manifest: out.appendingPathComponent("manifest.json"))
            .map { $0.under(folder: out.lastPathComponent) }
    }

    func event(for study: SampleStudy, eventID: String = UUID().uuidString.lowercased(),
               tasks: [StudyTask] = [.report, .diagnosis]) -> StudyEvent {
        study.event(storageRoot: "archive", tasks: tasks, eventID: eventID)
    }

    func publish(_ payloads: [(key: String, value: [UInt8])]) throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: brokers), logger: logger)
        defer { producer.close() }
        for payload in payloads {
            try producer.enqueue(topic: topic, key: Array(payload.key.utf8), value: payload.value)
        }
        try producer.flush(timeoutMilliseconds: 30_000)
    }

    func publish(_ events: [StudyEvent]) throws {
        try publish(events.map { (key: $0.studyInstanceUID, value: $0.encoded()) })
    }

    /// Runs a consumer on its own thread until `stop` is requested.
    func startConsumer(engine: InferenceEngine, settings override: RadFMSettings? = nil) -> RunningConsumer {
        let settings = override ?? self.settings
        let url = databaseURL
        let service = StudyConsumerService(settings: settings, engine: engine, logger: logger) {
            try PostgresConnection(url: url, applicationName: "radfm-it-serve")
        }
        return RunningConsumer(service: service)
    }

    /// Survives a server restart in the middle of a test: a lost session is reopened and the query
    /// asked again.
    func count(_ sql: String, _ params: [PostgresEncodable?] = []) throws -> Int {
        for attempt in 0..<30 {
            do {
                return try db.query(sql, params)[0].decode("n", as: Int.self)
            } catch let error as PostgresError where error.isTransient && attempt < 29 {
                Thread.sleep(forTimeInterval: 0.5)
                try? db.reconnect()
            }
        }
        preconditionFailure("unreachable")
    }

    /// Waits until `condition` holds, polling; fails the test with `what` on timeout.
    func wait(for what: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line,
              _ condition: () throws -> Bool) rethrows {
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out after \(Int(timeout)) s waiting for \(what)", file: file, line: line)
    }

    /// Reads every message of the dead-letter topic.
    func deadLetterMessages(expected: Int, timeout: TimeInterval = 30) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(configuration: KafkaConfiguration(brokers: brokers), groupID: "dlq-reader-\(UUID().uuidString)",
                                         topics: [topic + ".dlq"], listener: nil, logger: logger)
        defer { consumer.close() }
        var messages: [KafkaMessage] = []
        let until = Date().addingTimeInterval(timeout)
        while messages.count < expected && Date() < until {
            if let message = try consumer.poll(timeoutMilliseconds: 200) { messages.append(message) }
        }
        return messages
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "PipelineHarness", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(arguments.joined(separator: " ")) failed (python3 with pydicom is needed)"])
        }
    }
}

/// A `StudyConsumerService` on a background thread.
final class RunningConsumer {
    let service: StudyConsumerService
    let stop = StopSignal()
    private let finished = DispatchSemaphore(value: 0)
    private(set) var error: Error?

    init(service: StudyConsumerService) {
        self.service = service
        let thread = Thread { [self] in
            do { try service.run(stop: stop) } catch { self.error = error }
            finished.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Requests a graceful stop and waits for the loop to finish its batch and leave the group.
    func shutdown(timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line) {
        stop.request()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            XCTFail("consumer did not stop within \(Int(timeout)) s", file: file, line: line)
        }
        if let error { XCTFail("consumer failed: \(error)", file: file, line: line) }
    }
}

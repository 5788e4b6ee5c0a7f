import ArgumentParser
import Foundation
import Kafka
import Logging
import Pipeline
import Postgres

/// What `radfm bench pipeline` runs against: a database and a topic of its own on the configured
/// servers (names with a random suffix, so it never touches production data), and a storage root of
/// distinct small real studies, one per event, so every event writes new results as in production.
final class PipelineBenchEnvironment {
    let databaseURL: String
    let topic: String
    let group: String
    let databaseName: String
    let storageRoot: URL
    private(set) var studies: [SampleStudy] = []
    private let adminURL: String
    private let brokers: String
    private let logger: Logger

    /// `adminURL` names a role allowed to CREATE DATABASE; the benchmark database is made beside the
    /// database it names.
    init(adminURL: String, brokers: String, partitions: Int, logger: Logger) throws {
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        self.adminURL = adminURL
        self.brokers = brokers
        self.logger = logger
        databaseName = "radfm_bench_" + suffix
        topic = "radfm.bench.\(suffix).v1"
        group = "radfm-bench-\(suffix)"
        storageRoot = FileManager.default.temporaryDirectory.appendingPathComponent("radfm-bench-\(suffix)")

        let admin = try PostgresConnection(url: adminURL, applicationName: "radfm bench pipeline")
        defer { admin.close() }
        do {
            // A database name cannot be a bind parameter; this one is [a-z0-9_] only.
            try admin.execute("CREATE DATABASE \(databaseName)")
        } catch let error as PostgresError {
            throw ValidationError("cannot create the benchmark database (\(error)); pass --admin-database-url with a role allowed to CREATE DATABASE")
        }
        databaseURL = Self.url(of: databaseName, on: adminURL)
        let db = try PostgresConnection(url: databaseURL, applicationName: "radfm bench pipeline")
        defer { db.close() }
        _ = try Migrator(directory: try MigrationsLocation.resolve(nil), logger: logger).migrate(db)

        let kafka = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers), logger: logger)
        try kafka.createTopic(topic, partitions: partitions)
        try kafka.createTopic(topic + ".dlq", partitions: 1)
    }

    /// Writes `count` one-instance studies made from pydicom's CT_small.dcm (fresh UIDs, real pixels)
    /// with the repository's sample script.
    func makeStudies(count: Int) throws {
        let script = try MigrationsLocation.resolve(nil).deletingLastPathComponent().appendingPathComponent("Deploy/local/make-sample-studies.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "synthetic", storageRoot.path, "--count", "\(count)"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(script.path) failed (python3 with pydicom is needed to lay out the sample studies)")
        }
        studies = try SampleStudy.load(manifest: storageRoot.appendingPathComponent("manifest.json"))
    }

    /// Publishes one event per study and waits until the broker has them all.
    func publishEvents(tasks: [StudyTask]) throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: brokers), logger: logger)
        defer { producer.close() }
        for study in studies {
            try producer.enqueue(topic: topic, key: Array(study.studyInstanceUID.utf8),
                                 value: study.event(storageRoot: "bench", tasks: tasks).encoded())
        }
        try producer.flush(timeoutMilliseconds: 120_000)
    }

    /// Drops the database, the topics and the sample files, so that repeated runs leave nothing behind
    /// (a broker that keeps every old benchmark topic spends more on each later run).
    func remove() {
        try? FileManager.default.removeItem(at: storageRoot)
        do {
            let admin = try PostgresConnection(url: adminURL, applicationName: "radfm bench pipeline")
            defer { admin.close() }
            try admin.execute("DROP DATABASE IF EXISTS \(databaseName) WITH (FORCE)")
        } catch {
            logger.warning("could not drop the benchmark database", metadata: ["database": "\(databaseName)", "error": "\(error)"])
        }
        do {
            try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers), logger: logger)
                .deleteTopics([topic, topic + ".dlq"])
        } catch {
            logger.warning("could not delete the benchmark topics", metadata: ["kafka.topic": "\(topic)", "error": "\(error)"])
        }
    }

    /// The same server and credentials, another database.
    private static func url(of database: String, on serverURL: String) -> String {
        if serverURL.hasPrefix("postgres://") || serverURL.hasPrefix("postgresql://"), var components = URLComponents(string: serverURL) {
            components.path = "/" + database
            if let url = components.string { return url }
        }
        return serverURL + " dbname=" + database
    }
}

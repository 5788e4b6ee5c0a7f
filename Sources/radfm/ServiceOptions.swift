import ArgumentParser
import Foundation
import Logging
import Pipeline

/// Options shared by every command that talks to the service's servers. Flags override the
/// environment, which overrides the configuration file (DESIGN section 5a).
struct ServiceOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (default: $RADFM_CONFIG, else built-in defaults; see Config/radfm.yaml).")
    var config: String?

    @Option(name: .long, help: "PostgreSQL URI (overrides $RADFM_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .long, help: "Kafka bootstrap brokers host:port[,...] (overrides $RADFM_KAFKA_BROKERS).")
    var brokers: String?

    @Option(name: .long, help: "Kafka topic of study events (overrides $RADFM_TOPIC).")
    var topic: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func settings() throws -> RadFMSettings {
        var settings = try RadFMSettings.load(file: config)
        if let databaseURL { settings.databaseURL = databaseURL }
        if let brokers { settings.kafkaBrokers = brokers }
        if let topic { settings.topic = topic }
        return settings
    }

    func logger(_ label: String) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// `--storage-root name=/path`, for the commands that read the archive.
struct StorageRootOptions: ParsableArguments {
    @Option(name: .customLong("storage-root"), help: "A storage root name=/path (repeatable; overrides $RADFM_STORAGE_ROOTS).")
    var storageRoots: [String] = []

    func apply(to settings: inout RadFMSettings) throws {
        if !storageRoots.isEmpty { settings.storageRoots = try RadFMSettings.parseStorageRoots(storageRoots.joined(separator: ",")) }
    }
}

/// Bootstraps logging once per process: JSON lines on stderr.
enum ProcessLogging {
    nonisolated(unsafe) private static var bootstrapped = false
    static func bootstrap() {
        guard !bootstrapped else { return }
        bootstrapped = true
        LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
    }
}

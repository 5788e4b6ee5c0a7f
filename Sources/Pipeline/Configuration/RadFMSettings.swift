import Foundation
import Yams

/// Everything the service components read from configuration. Defaults equal `Config/radfm.yaml`;
/// a YAML file overrides them, environment variables override the file, and the executables apply
/// command-line flags last.
public struct RadFMSettings: Sendable, Equatable {
    public var databaseURL = ""
    public var kafkaBrokers = ""
    public var kafkaGroup = "radfm-workers"
    public var topic = "radfm.studies.v1"
    public var deadLetterTopicOverride = ""
    public var topicPartitions = 6
    public var topicReplicationFactor = 1
    public var kafkaSettings: [String: String] = [:]
    public var storageRoots: [String: String] = [:]
    public var modelDirectory = ""
    public var maxNewTokens = 200
    public var batchSize = 8
    public var batchWaitMilliseconds = 200
    /// Studies of one batch whose files are read and whose images are decoded at the same time.
    public var decodeConcurrency = 2
    public var defaultTasks: [StudyTask] = [.report, .diagnosis]
    public var maxEventBytes = 1 << 20
    public var shutdownDeadlineSeconds = 30.0
    public var retryInitialMilliseconds = 200
    public var retryMaxMilliseconds = 30_000
    public var observabilityListen = "127.0.0.1:9464"
    /// Findings the diagnosis task asks about one by one (yes/no), each parsed into a labelled row.
    public var diagnosisLabels: [String] = []
    /// The yes/no question for one label; `{label}` is replaced (RadFM's yes/no prompt phrasing).
    public var diagnosisLabelPrompt = "Does the image show signs of {label}?"
    public var prompts: [StudyTask: String] = [
        .report: "Can you provide a radiology report for this medical image?",
        .diagnosis: "What disease can be diagnosed from these radiological images?",
        .modality: "What modality is used to take this image?",
        .rationale: "What disease can be diagnosed from these radiological images and what specific features are typically observed on the images?",
    ]

    public init() {}

    public var deadLetterTopic: String { deadLetterTopicOverride.isEmpty ? topic + ".dlq" : deadLetterTopicOverride }

    /// Defaults, then the YAML file (explicit path, else RADFM_CONFIG), then the environment.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RadFMSettings {
        var settings = RadFMSettings()
        if let path = file ?? environment["RADFM_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ConfigurationError("cannot read configuration file \(path): \(error.localizedDescription)")
            }
            try settings.apply(yaml: text, source: path)
        }
        try settings.apply(environment: environment)
        return settings
    }

    public mutating func apply(yaml text: String, source: String) throws {
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw ConfigurationError("\(source): not valid YAML: \(error)")
        }
        guard let root else { return }
        var reader = try ConfigReader(root, path: source)
        if var db = try reader.section("database") {
            databaseURL = try db.string("url") ?? databaseURL
            try db.finish()
        }
        if var k = try reader.section("kafka") {
            kafkaBrokers = try k.string("brokers") ?? kafkaBrokers
            kafkaGroup = try k.string("group") ?? kafkaGroup
            topic = try k.string("topic") ?? topic
            deadLetterTopicOverride = try k.string("dead_letter_topic") ?? deadLetterTopicOverride
            topicPartitions = try k.int("partitions") ?? topicPartitions
            topicReplicationFactor = try k.int("replication_factor") ?? topicReplicationFactor
            kafkaSettings.merge(try k.stringMap("settings") ?? [:]) { $1 }
            try k.finish()
        }
        storageRoots.merge(try reader.stringMap("storage_roots") ?? [:]) { $1 }
        if var m = try reader.section("model") {
            modelDirectory = try m.string("directory") ?? modelDirectory
            maxNewTokens = try m.int("max_new_tokens") ?? maxNewTokens
            try m.finish()
        }
        if var p = try reader.section("pipeline") {
            batchSize = try p.int("batch_size") ?? batchSize
            batchWaitMilliseconds = try p.int("batch_wait_ms") ?? batchWaitMilliseconds
            decodeConcurrency = try p.int("decode_concurrency") ?? decodeConcurrency
            if let names = try p.stringList("default_tasks") {
                defaultTasks = try names.map { name in
                    guard let task = StudyTask(rawValue: name) else {
                        throw ConfigurationError("\(source): pipeline.default_tasks: unknown task '\(name)' (known: \(StudyTask.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return task
                }
            }
            maxEventBytes = try p.int("max_event_bytes") ?? maxEventBytes
            shutdownDeadlineSeconds = try p.double("shutdown_deadline_seconds") ?? shutdownDeadlineSeconds
            retryInitialMilliseconds = try p.int("retry_initial_ms") ?? retryInitialMilliseconds
            retryMaxMilliseconds = try p.int("retry_max_ms") ?? retryMaxMilliseconds
            try p.finish()
        }
        if var d = try reader.section("diagnosis") {
            diagnosisLabels = try d.stringList("labels") ?? diagnosisLabels
            diagnosisLabelPrompt = try d.string("label_prompt") ?? diagnosisLabelPrompt
            guard diagnosisLabelPrompt.contains("{label}") else {
                throw ConfigurationError("\(source): diagnosis.label_prompt must contain {label}")
            }
            try d.finish()
        }
        if var o = try reader.section("observability") {
            observabilityListen = try o.string("listen") ?? observabilityListen
            try o.finish()
        }
        if let map = try reader.stringMap("prompts") {
            for (name, prompt) in map {
                guard let task = StudyTask(rawValue: name) else {
                    throw ConfigurationError("\(source): prompts: unknown task '\(name)'")
                }
                prompts[task] = prompt
            }
        }
        try reader.finish()
        try validate(source: source)
    }

    public mutating func apply(environment env: [String: String]) throws {
        func value(_ name: String) -> String? { env[name].flatMap { $0.isEmpty ? nil : $0 } }
        databaseURL = value("RADFM_DATABASE_URL") ?? databaseURL
        kafkaBrokers = value("RADFM_KAFKA_BROKERS") ?? kafkaBrokers
        kafkaGroup = value("RADFM_KAFKA_GROUP") ?? kafkaGroup
        topic = value("RADFM_TOPIC") ?? topic
        modelDirectory = value("RADFM_MODEL") ?? modelDirectory
        if let roots = value("RADFM_STORAGE_ROOTS") {
            storageRoots = try Self.parseStorageRoots(roots)
        }
        // An empty variable is unset, as for every other key: `RADFM_KAFKA_X= cmd` must not hand librdkafka "".
        for (name, setting) in env where name.hasPrefix("RADFM_KAFKA_") && !setting.isEmpty {
            let suffix = name.dropFirst("RADFM_KAFKA_".count)
            guard suffix != "BROKERS", suffix != "GROUP", !suffix.isEmpty else { continue }
            kafkaSettings[suffix.lowercased().replacingOccurrences(of: "_", with: ".")] = setting
        }
        try validate(source: "environment")
    }

    /// `name=/path,name2=/path2`.
    public static func parseStorageRoots(_ text: String) throws -> [String: String] {
        var roots: [String: String] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
                throw ConfigurationError("RADFM_STORAGE_ROOTS: expected name=/absolute/path[,name2=/path2], got '\(entry)'")
            }
            roots[parts[0]] = parts[1]
        }
        return roots
    }

    private func validate(source: String) throws {
        func positive(_ value: Int, _ key: String) throws {
            guard value > 0 else { throw ConfigurationError("\(source): \(key) must be positive, got \(value)") }
        }
        try positive(batchSize, "pipeline.batch_size")
        try positive(decodeConcurrency, "pipeline.decode_concurrency")
        try positive(maxEventBytes, "pipeline.max_event_bytes")
        try positive(maxNewTokens, "model.max_new_tokens")
        try positive(topicPartitions, "kafka.partitions")
        try positive(retryInitialMilliseconds, "pipeline.retry_initial_ms")
        guard batchWaitMilliseconds >= 0 else { throw ConfigurationError("\(source): pipeline.batch_wait_ms must not be negative") }
        guard retryMaxMilliseconds >= retryInitialMilliseconds else {
            throw ConfigurationError("\(source): pipeline.retry_max_ms must be at least retry_initial_ms")
        }
        for (name, path) in storageRoots where !path.hasPrefix("/") {
            throw ConfigurationError("\(source): storage root '\(name)' must be an absolute path, got '\(path)'")
        }
    }

    // MARK: Requirements of individual commands, each with one clear line when missing.

    public func requireDatabaseURL() throws -> String {
        guard !databaseURL.isEmpty else {
            throw ConfigurationError("no database configured: set RADFM_DATABASE_URL, database.url in the config file, or --database-url")
        }
        return databaseURL
    }

    public func requireKafkaBrokers() throws -> String {
        guard !kafkaBrokers.isEmpty else {
            throw ConfigurationError("no Kafka brokers configured: set RADFM_KAFKA_BROKERS, kafka.brokers in the config file, or --brokers")
        }
        return kafkaBrokers
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads one YAML mapping and remembers which keys were used, so that a misspelt key is an error
/// instead of a silently ignored setting.
private struct ConfigReader {
    private let values: [String: Any]
    private let path: String
    private var used: Set<String> = []

    init(_ node: Any, path: String) throws {
        guard let map = node as? [String: Any] else { throw ConfigurationError("\(path): expected a mapping") }
        values = map
        self.path = path
    }

    private mutating func take(_ key: String) -> Any? {
        used.insert(key)
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    mutating func section(_ key: String) throws -> ConfigReader? {
        guard let node = take(key) else { return nil }
        return try ConfigReader(node, path: "\(path): \(key)")
    }

    mutating func string(_ key: String) throws -> String? {
        guard let value = take(key) else { return nil }
        if let s = value as? String { return s }
        if let i = value as? Int { return String(i) }
        throw ConfigurationError("\(path).\(key): expected a string")
    }

    mutating func int(_ key: String) throws -> Int? {
        guard let value = take(key) else { return nil }
        guard let i = value as? Int else { throw ConfigurationError("\(path).\(key): expected an integer") }
        return i
    }

    mutating func double(_ key: String) throws -> Double? {
        guard let value = take(key) else { return nil }
        if let d = value as? Double { return d }
        if let i = value as? Int { return Double(i) }
        throw ConfigurationError("\(path).\(key): expected a number")
    }

    mutating func stringList(_ key: String) throws -> [String]? {
        guard let value = take(key) else { return nil }
        guard let list = value as? [Any], let strings = list as? [String] else {
            throw ConfigurationError("\(path).\(key): expected a list of strings")
        }
        return strings
    }

    mutating func stringMap(_ key: String) throws -> [String: String]? {
        guard let value = take(key) else { return nil }
        guard let map = value as? [String: Any] else { throw ConfigurationError("\(path).\(key): expected a mapping") }
        var result: [String: String] = [:]
        for (k, v) in map {
            switch v {
            case let s as String: result[k] = s
            case let i as Int: result[k] = String(i)
            case let b as Bool: result[k] = b ? "true" : "false"
            case let d as Double: result[k] = String(d)
            default: throw ConfigurationError("\(path).\(key).\(k): expected a scalar")
            }
        }
        return result
    }

    func finish() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        guard unknown.isEmpty else {
            throw ConfigurationError("\(path): unknown key\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))")
        }
    }
}

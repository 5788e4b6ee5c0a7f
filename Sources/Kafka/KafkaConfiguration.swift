/// Connection and client settings shared by consumers, producers and admin clients.
///
/// `settings` are librdkafka configuration properties passed through verbatim, so TLS, SASL and tuning
/// need no code here; an unknown key or invalid value fails client creation with a `KafkaError` naming it.
public struct KafkaConfiguration: Sendable {
    public var settings: [String: String]

    public init(brokers: String, settings: [String: String] = [:]) {
        var settings = settings
        settings["bootstrap.servers"] = brokers
        self.settings = settings
    }

    /// The bootstrap broker list (`bootstrap.servers`).
    public var brokers: String {
        settings["bootstrap.servers"] ?? ""
    }

    /// The environment prefix for pass-through librdkafka settings.
    static let environmentPrefix = "RADFM_KAFKA_"

    /// Variables with the prefix that are not librdkafka properties; the group is the service's choice.
    static let environmentNamesNotPassedThrough: Set<String> = ["RADFM_KAFKA_BROKERS", "RADFM_KAFKA_GROUP"]

    /// `RADFM_KAFKA_BROKERS` becomes `bootstrap.servers`; every other `RADFM_KAFKA_<NAME>` except
    /// `RADFM_KAFKA_GROUP` becomes the property `<name>` lowercased with `_` turned into `.`
    /// (`RADFM_KAFKA_SECURITY_PROTOCOL=SASL_SSL` -> `security.protocol=SASL_SSL`).
    /// Returns nil when no brokers are given, so callers can tell "Kafka not configured" apart.
    public static func fromEnvironment(_ env: [String: String]) -> KafkaConfiguration? {
        guard let brokers = env["RADFM_KAFKA_BROKERS"], !brokers.isEmpty else { return nil }
        var settings: [String: String] = [:]
        for (name, value) in env where name.hasPrefix(environmentPrefix) {
            guard !environmentNamesNotPassedThrough.contains(name) else { continue }
            let property = String(name.dropFirst(environmentPrefix.count).lowercased().map { $0 == "_" ? "." : $0 })
            guard !property.isEmpty else { continue }
            settings[property] = value
        }
        return KafkaConfiguration(brokers: brokers, settings: settings)
    }
}

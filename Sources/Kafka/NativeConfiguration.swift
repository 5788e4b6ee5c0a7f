import CRdKafka

/// Builds the `rd_kafka_conf_t` for one client: role defaults first, then the user's settings (which may
/// override them), then the values the wrapper must control.
enum NativeConfiguration {
    /// Returns an owned `rd_kafka_conf_t`; ownership passes to `rd_kafka_new`, or the caller destroys it.
    static func make(
        defaults: [String: String],
        settings: [String: String],
        enforced: [String: String] = [:],
        client: String
    ) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        do {
            // Sorted so that a bad configuration always fails on the same key.
            for (key, value) in defaults.merging(settings, uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
                try set(key, value, on: conf, client: client)
            }
            for (key, value) in enforced.sorted(by: { $0.key < $1.key }) {
                try set(key, value, on: conf, client: client)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        return conf
    }

    private static func set(_ key: String, _ value: String, on conf: OpaquePointer, client: String) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        let reason = result == RD_KAFKA_CONF_UNKNOWN ? "unknown configuration key" : "invalid value"
        throw KafkaError.wrapper(
            "invalid_configuration",
            "\(client) configuration key '\(key)': \(reason): \(String(cString: errorText))"
        )
    }

    /// Creates the client handle; `conf` is consumed whether or not creation succeeds.
    static func makeHandle(type: rd_kafka_type_t, conf: OpaquePointer, client: String) throws -> OpaquePointer {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.wrapper("client_creation_failed", "creating \(client): \(String(cString: errorText))")
        }
        return handle
    }
}

import CRdKafka

/// librdkafka properties for one client. Every `CRM_KAFKA_<NAME>` environment variable passes
/// through as `<name>` (lower case, `_` → `.`), so SASL/TLS for a real cluster needs no code:
/// `CRM_KAFKA_SECURITY_PROTOCOL=SASL_SSL` becomes `security.protocol=SASL_SSL`.
/// `CRM_KAFKA_BROKERS` is the one exception: it sets `bootstrap.servers`.
public struct KafkaConfiguration: Sendable {
    public var properties: [String: String]

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.properties = properties
        self.properties["bootstrap.servers"] = bootstrapServers
    }

    public static func fromEnvironment(
        _ environment: [String: String], defaultBrokers: String = "127.0.0.1:9092"
    ) -> KafkaConfiguration {
        let brokers = environment["CRM_KAFKA_BROKERS"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultBrokers
        var configuration = KafkaConfiguration(bootstrapServers: brokers)
        // Empty variables count as unset, as everywhere else in the configuration.
        for (name, value) in environment where name.hasPrefix("CRM_KAFKA_") && name != "CRM_KAFKA_BROKERS" && !value.isEmpty {
            let property = name.dropFirst("CRM_KAFKA_".count).lowercased().replacingOccurrences(of: "_", with: ".")
            configuration.properties[property] = value
        }
        return configuration
    }

    public var bootstrapServers: String { properties["bootstrap.servers"] ?? "" }

    /// The producer's `message.max.bytes` (librdkafka's default 1,000,000 unless
    /// `CRM_KAFKA_MESSAGE_MAX_BYTES` sets it): no produced message may be larger.
    public var producerMessageMaxBytes: Int { properties["message.max.bytes"].flatMap { Int($0) } ?? 1_000_000 }

    /// Returns a copy with `overrides` applied on top; explicit settings of this configuration win
    /// over the defaults given in `defaults`.
    func merged(defaults: [String: String], overrides: [String: String] = [:]) -> KafkaConfiguration {
        var copy = self
        copy.properties = defaults.merging(properties) { _, explicit in explicit }.merging(overrides) { _, forced in forced }
        return copy
    }

    /// Consumer-only librdkafka properties. One configuration serves a whole service, so its
    /// producers and admin clients leave these out instead of warning about each one.
    static let consumerOnlyProperties: Set<String> = [
        "session.timeout.ms", "heartbeat.interval.ms", "max.poll.interval.ms", "auto.offset.reset",
        "group.instance.id", "partition.assignment.strategy", "enable.auto.commit", "auto.commit.interval.ms",
        "enable.auto.offset.store", "fetch.min.bytes", "fetch.wait.max.ms", "fetch.max.bytes", "isolation.level",
        "queued.min.messages", "queued.max.messages.kbytes", "check.crcs", "group.protocol.type",
    ]

    /// The properties that apply to a producer or admin client.
    var withoutConsumerProperties: KafkaConfiguration {
        var copy = self
        copy.properties = properties.filter { !Self.consumerOnlyProperties.contains($0.key) }
        return copy
    }

    /// A new `rd_kafka_conf_t` holding these properties; the caller owns it.
    func makeNativeConfiguration() throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errorText = [CChar](repeating: 0, count: 512)
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError.configuration("property \(name): \(nulTerminated(errorText))")
            }
        }
        return conf
    }
}

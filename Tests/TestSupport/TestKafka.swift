import Foundation
import Kafka
import Messaging

/// A Kafka-protocol broker for one test: a fresh embedded cluster (librdkafka's mock cluster) in
/// this process, or the real cluster named by `CRM_TEST_KAFKA_BROKERS`.
public final class TestKafka: Sendable {
    public let cluster: EmbeddedKafkaCluster?
    public let configuration: KafkaConfiguration

    /// For consumers: a short session timeout, because the mock cluster's coordinator waits
    /// `session.timeout.ms − 1 s` for departed members before it completes a rebalance.
    public var consumerConfiguration: KafkaConfiguration {
        var consumer = configuration
        consumer.properties["session.timeout.ms"] = "6000"
        consumer.properties["heartbeat.interval.ms"] = "500"
        return consumer
    }

    public init(brokers: Int = 3) throws {
        var configuration: KafkaConfiguration
        if let real = ProcessInfo.processInfo.environment["CRM_TEST_KAFKA_BROKERS"], !real.isEmpty {
            cluster = nil
            configuration = KafkaConfiguration(bootstrapServers: real)
        } else {
            let cluster = try EmbeddedKafkaCluster(brokers: brokers)
            self.cluster = cluster
            configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
        }
        // librdkafka debug contexts (e.g. `cgrp,protocol`) for diagnosing a failing test.
        if let debug = ProcessInfo.processInfo.environment["CRM_TEST_KAFKA_DEBUG"] {
            configuration.properties["debug"] = debug
        }
        self.configuration = configuration
    }

    /// Creates topics (a unique name per test keeps tests apart on a shared real cluster).
    public func createTopic(_ name: String, partitions: Int = 3) async throws {
        if let cluster {
            try await cluster.createTopic(name, partitions: partitions, replicationFactor: min(3, cluster.brokerCount))
        } else {
            _ = try await TopicProvisioner.ensure(
                [TopicSpec(name: name, partitions: partitions, replicationFactor: 1)], configuration: configuration)
        }
    }

    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    public func shutdown() async {
        await cluster?.shutdown()
    }

    /// Runs `body` with a fresh broker and shuts it down afterwards.
    public static func with<T: Sendable>(brokers: Int = 3, _ body: (TestKafka) async throws -> T) async throws -> T {
        let kafka = try TestKafka(brokers: brokers)
        do {
            let value = try await body(kafka)
            await kafka.shutdown()
            return value
        } catch {
            await kafka.shutdown()
            throw error
        }
    }
}

/// Reads messages until `count` arrived or the timeout passed.
public func consume(
    _ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30), commit: Bool = true
) async throws -> [KafkaMessage] {
    var messages: [KafkaMessage] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count && ContinuousClock.now < deadline {
        let batch = try await consumer.poll(maxMessages: count - messages.count, timeout: .milliseconds(500))
        if commit { try await consumer.commit(batch) }
        messages += batch
    }
    return messages
}

/// Polls a condition until it holds or the timeout passes; returns whether it held.
public func eventually(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

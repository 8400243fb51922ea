import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Messaging
import Postgres
import ServiceKit
import Testing

/// Drives one in-process service instance in a test: HTTP through its router with tokens per
/// role, and Kafka through the test's broker. Each service's test module adds a `run` that
/// builds its instance (`extension ServiceDriver { static func run … }`).
public struct ServiceDriver: Sendable {
    public let client: any TestClientProtocol
    public let kafka: TestKafka
    public let issuer: TokenIssuer
    public let producer: KafkaProducer
    /// A pool on the instance's schema, for waiting until a projection caught up.
    public let pool: PostgresPool
    /// Stops the instance's background work (consumers, relay) and starts it again.
    public let restart: @Sendable () async throws -> Void
    /// The service's name (`crm-events`), under which its exchanges are recorded for the
    /// OpenAPI conformance check (``ConformanceRecorder``).
    public let service: String
    /// The routes its router serves, for the OpenAPI coverage test.
    public let routes: Set<String>

    public init(
        application: CRMApplication, client: any TestClientProtocol, kafka: TestKafka, issuer: TokenIssuer, producer: KafkaProducer,
        pool: PostgresPool, restart: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.service = application.configuration.serviceName
        self.routes = application.routes
        self.client = client
        self.kafka = kafka
        self.issuer = issuer
        self.producer = producer
        self.pool = pool
        self.restart = restart
    }

    public static let jwtSecret = "service-test-secret-0123456789abcdefghijkl"

    /// Environment every service instance under test gets.
    public static func environment(databaseURL: String, kafka: TestKafka, extra: [String: String] = [:]) -> [String: String] {
        [
            "CRM_DATABASE_URL": databaseURL,
            "CRM_KAFKA_BROKERS": kafka.configuration.bootstrapServers,
            "CRM_JWT_SECRET": jwtSecret,
            "CRM_DEFAULT_COUNTRY_CODE": "7",
            "CRM_LOG_LEVEL": "warning",
            "CRM_DATABASE_POOL_SIZE": "3",
            // The mock cluster completes rebalances only after session.timeout.ms − 1 s.
            "CRM_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "CRM_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
        ].merging(extra) { $1 }
    }

    /// Stable subjects per role, so tests can speak of "the manager".
    public static func defaultSubject(for role: Role) -> String {
        switch role {
        case .admin: "00000000-0000-0000-0000-00000000000a"
        case .manager: "00000000-0000-0000-0000-00000000000b"
        case .viewer: "00000000-0000-0000-0000-00000000000c"
        case .integration: "00000000-0000-0000-0000-00000000000d"
        }
    }

    public func request(
        _ method: HTTPRequest.Method, _ path: String, role: Role? = .admin, subject: String? = nil,
        json: String? = nil, headers: [String: String] = [:]
    ) async throws -> HarnessResponse {
        var fields = HTTPFields()
        if let role {
            let token = try await issuer.sign(subject: subject ?? Self.defaultSubject(for: role), roles: [role])
            fields[.authorization] = "Bearer \(token)"
        }
        if json != nil { fields[.contentType] = "application/json" }
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        let response = try await client.execute(
            uri: path, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) })
        let text = String(buffer: response.body)
        ConformanceRecorder.record(
            service: service, method: method, target: path, requestHeaders: fields, requestBody: json,
            status: Int(response.status.code), responseHeaders: response.headers, responseBody: text)
        return HarnessResponse(status: Int(response.status.code), headers: response.headers, text: text)
    }

    /// Reads `topic` from the beginning with a fresh consumer group until `count` messages
    /// arrived or the timeout passed; sorted by partition and offset.
    public func messages(on topic: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: kafka.consumerConfiguration, groupID: "reader-\(UUID().uuidString)", topics: [topic])
        let messages = try await consume(consumer, count: count, timeout: timeout)
        await consumer.close()
        return messages.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    /// Reads `topic` and requires that it holds exactly `total` messages: waits for them, then
    /// reads again a little longer to see that nothing else arrives.
    public func settledMessages(
        on topic: String, total: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> [KafkaMessage] {
        let first = try await messages(on: topic, count: total)
        #expect(first.count >= total, "only \(first.count) of \(total) messages on \(topic)", sourceLocation: sourceLocation)
        let settled = try await messages(on: topic, count: total + 1, timeout: .seconds(6))
        #expect(
            settled.count == total,
            "\(topic) holds \(settled.count) messages, expected exactly \(total): \(settled.map { "\($0.keyString ?? "-") \($0.header("ce_type")?.stringValue ?? "-")" })",
            sourceLocation: sourceLocation)
        return settled
    }

    public func publish(topic: String, key: String, value: String) async throws {
        try await producer.send(ProducerRecord(topic: topic, key: key, value: value))
    }
}

public struct HarnessResponse: Sendable {
    public let status: Int
    public let headers: HTTPFields
    public let text: String

    public var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    public var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
}

/// Bounds how many service instances run at once: each holds database connections and an
/// embedded cluster, and the test server and two cores have limits.
public actor HarnessGate {
    public static let shared = HarnessGate(permits: 4)

    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(permits: Int) { available = permits }

    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { available += 1 } else { waiters.removeFirst().resume() }
    }
}

/// Drops a test schema.
public func dropSchema(_ schema: String, url: String) async throws {
    let pool = PostgresPool(.init(url: url))
    try await pool.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
    await pool.close()
}

/// What a service's test harness needs to start one instance: a broker with every topic of
/// TOPICS.md, a fresh schema name, the environment, a producer and a token issuer.
public struct InstanceContext: Sendable {
    public let kafka: TestKafka
    public let schema: String
    public let environment: [String: String]
    public let producer: KafkaProducer
    public let issuer: TokenIssuer
}

extension ServiceDriver {
    /// Runs `body` with a fresh instance context (under the harness gate) and cleans up after it:
    /// the producer, the schema and the broker.
    public static func withInstance(
        schemaPrefix: String, extraEnvironment: [String: String] = [:],
        _ body: @Sendable (InstanceContext) async throws -> Void
    ) async throws {
        try await HarnessGate.shared.withPermit {
            let url = try TestDatabase.url()
            try await TestKafka.with { kafka in
                if let cluster = kafka.cluster {
                    try await cluster.createTopics(TopicCatalogue.specs(partitions: 3, replicationFactor: 3))
                }
                let context = InstanceContext(
                    kafka: kafka, schema: TestDatabase.uniqueSchema(schemaPrefix),
                    environment: environment(databaseURL: url, kafka: kafka, extra: extraEnvironment),
                    producer: try KafkaProducer(configuration: kafka.configuration),
                    issuer: try await TokenIssuer(hmacSecret: jwtSecret))
                do {
                    try await body(context)
                    try await ConformanceDump.dump(kafka, instance: context.schema)
                } catch {
                    await context.producer.close()
                    try? await dropSchema(context.schema, url: url)
                    throw error
                }
                await context.producer.close()
                try await dropSchema(context.schema, url: url)
            }
        }
    }
}

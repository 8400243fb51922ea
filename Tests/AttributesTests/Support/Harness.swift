import Attributes
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Messaging
import Postgres
import ServiceKit
import TestSupport

/// One crm-attributes instance in this process: its own schema on the test database, its own
/// embedded Kafka cluster with every topic of TOPICS.md, driven through its HTTP router.
struct Harness: Sendable {
    let client: any TestClientProtocol
    let kafka: TestKafka
    let issuer: TokenIssuer
    let producer: KafkaProducer

    static let secret = "attributes-test-secret-0123456789abcdefghij"

    static func run(_ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        await HarnessGate.shared.acquire()
        do {
            try await runAlone(body)
        } catch {
            await HarnessGate.shared.release()
            throw error
        }
        await HarnessGate.shared.release()
    }

    private static func runAlone(_ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        let url = try TestDatabase.url()
        try await TestKafka.with { kafka in
            if let cluster = kafka.cluster {
                try await cluster.createTopics(TopicCatalogue.specs(partitions: 3, replicationFactor: 3))
            }
            let schema = TestDatabase.uniqueSchema("attr")
            let environment = [
                "CRM_DATABASE_URL": url,
                "CRM_KAFKA_BROKERS": kafka.configuration.bootstrapServers,
                "CRM_JWT_SECRET": secret,
                "CRM_DEFAULT_COUNTRY_CODE": "7",
                "CRM_LOG_LEVEL": "warning",
                "CRM_DATABASE_POOL_SIZE": "3",
                // The mock cluster completes rebalances only after session.timeout.ms − 1 s.
                "CRM_KAFKA_SESSION_TIMEOUT_MS": "6000",
                "CRM_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            ]
            let (application, _) = try await AttributesService.makeApplication(environment: environment, schema: schema)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            let issuer = try await TokenIssuer(hmacSecret: secret)
            do {
                try await application.application.test(.router) { client in
                    try await body(Harness(client: client, kafka: kafka, issuer: issuer, producer: producer))
                }
            } catch {
                await producer.close()
                try? await dropSchema(schema, url: url)
                throw error
            }
            await producer.close()
            try await dropSchema(schema, url: url)
        }
    }

    private static func dropSchema(_ schema: String, url: String) async throws {
        let pool = PostgresPool(.init(url: url))
        try await pool.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
        await pool.close()
    }

    /// Default subjects per role, stable so tests can refer to "the manager".
    static func defaultSubject(for role: Role) -> String {
        switch role {
        case .admin: "00000000-0000-0000-0000-00000000000a"
        case .manager: "00000000-0000-0000-0000-00000000000b"
        case .viewer: "00000000-0000-0000-0000-00000000000c"
        case .integration: "00000000-0000-0000-0000-00000000000d"
        }
    }

    func request(
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
        return HarnessResponse(
            status: Int(response.status.code), headers: response.headers,
            text: String(buffer: response.body))
    }

    /// Reads `topic` from the beginning with a fresh consumer group.
    func messages(on topic: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: kafka.consumerConfiguration, groupID: "reader-\(UUID().uuidString)", topics: [topic])
        let messages = try await consume(consumer, count: count, timeout: timeout)
        await consumer.close()
        return messages
    }

    func publish(topic: String, key: String, value: String) async throws {
        try await producer.send(ProducerRecord(topic: topic, key: key, value: value))
    }
}

struct HarnessResponse: Sendable {
    let status: Int
    let headers: HTTPFields
    let text: String

    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
}

/// Bounds how many service instances run at once: each holds database connections and an
/// embedded cluster, and the test server and two cores have limits.
actor HarnessGate {
    static let shared = HarnessGate(permits: 4)

    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { available = permits }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

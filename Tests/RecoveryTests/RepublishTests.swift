import Attributes
import Events
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Messaging
import Postgres
import ServiceKit
import Testing
import TestSupport

/// `crm republish` heals projections after the topics were lost: the databases of crm-attributes
/// and crm-events survive a broker that starts empty (the dev broker after down/up), and
/// republishing the attributes makes crm-events' catalog projection whole again.
@Suite("Recovery: republish after topic loss")
struct RepublishTests {
    @Test("after a fresh broker, crm republish attributes makes crm-events know every counterparty again")
    func republishHealsProjections() async throws {
        let url = try TestDatabase.url()
        let attributesSchema = TestDatabase.uniqueSchema("rattr")
        let eventsSchema = TestDatabase.uniqueSchema("rev")
        defer { Task { try? await dropSchema(attributesSchema, url: url); try? await dropSchema(eventsSchema, url: url) } }
        let issuer = try await TokenIssuer(hmacSecret: ServiceDriver.jwtSecret)
        let created = PositionLog()

        // 1. Life before: counterparties created through crm-attributes on the first broker.
        try await TestKafka.with { kafka in
            try await kafka.cluster?.createTopics(TopicCatalogue.specs(partitions: 3, replicationFactor: 3))
            let environment = ServiceDriver.environment(databaseURL: url, kafka: kafka)
            let (application, _) = try await AttributesService.makeApplication(environment: environment, schema: attributesSchema)
            try await application.application.test(.router) { client in
                let token = try await issuer.sign(subject: ServiceDriver.defaultSubject(for: .admin), roles: [.admin])
                for name in ["Romashka LLC", "Vasilek JSC", "Oduvanchik Ltd"] {
                    let response = try await client.execute(
                        uri: "/v1/counterparties", method: .post,
                        headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                        body: ByteBuffer(string: #"{"name":"\#(name)"}"#))
                    #expect(response.status == .created)
                    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    created.append(try #require(object?["id"] as? String))
                }
            }
        }

        // 2. A fresh, empty broker: crm-attributes (same database) and crm-events (its projection
        //    empty, as for a service started for the first time on an existing stack).
        try await TestKafka.with { kafka in
            try await kafka.cluster?.createTopics(TopicCatalogue.specs(partitions: 3, replicationFactor: 3))
            let environment = ServiceDriver.environment(databaseURL: url, kafka: kafka)
            // Free ports: a stack started with deploy/local/up may hold the default ones.
            var attributesEnvironment = environment
            attributesEnvironment["CRM_HTTP_PORT"] = String(try freeLocalPort())
            let attributes = ApplicationRunner()
            await attributes.start(try await AttributesService.makeApplication(environment: attributesEnvironment, schema: attributesSchema).0)
            var eventsEnvironment = environment
            eventsEnvironment["CRM_HTTP_PORT"] = String(try freeLocalPort())
            let events = ApplicationRunner()
            await events.start(try await EventsService.makeApplication(environment: eventsEnvironment, schema: eventsSchema).0)
            let eventsPool = PostgresPool(.init(url: url, searchPath: eventsSchema, maxConnections: 2))

            // Nothing arrives by itself: the topics are empty.
            try await Task.sleep(for: .seconds(2))
            #expect(try await eventsPool.query("SELECT 1 FROM counterparties").isEmpty)

            // 3. crm republish attributes.
            let attributesPool = PostgresPool(.init(url: url, searchPath: attributesSchema, maxConnections: 2))
            let positions = PositionLog()
            let republished = try await Republishing.run(
                AttributesService.republisher(), pool: attributesPool, outbox: Outbox(schema: attributesSchema), chunkSize: 2
            ) { position, done, total in positions.append("\(position) \(done)/\(total)") }
            #expect(republished >= 3, "republished \(republished)")
            #expect(positions.values.contains { $0.hasPrefix("catalog-objects:") && $0.hasSuffix("3/3") }, "\(positions.values)")

            let counterparties = created.values
            #expect(counterparties.count == 3)
            let whole = try await eventually(timeout: .seconds(40)) {
                try await eventsPool.query("SELECT 1 FROM counterparties").count == counterparties.count
            }
            #expect(whole, "crm-events' counterparty projection is whole again")
            // Republishing again changes nothing in the projection (same versions).
            let versionsBefore = try await eventsPool.query("SELECT id, version FROM counterparties ORDER BY id").map { try $0.decode("version", as: Int.self) }
            try await Republishing.run(AttributesService.republisher(), pool: attributesPool, outbox: Outbox(schema: attributesSchema))
            try await Task.sleep(for: .seconds(2))
            let versionsAfter = try await eventsPool.query("SELECT id, version FROM counterparties ORDER BY id").map { try $0.decode("version", as: Int.self) }
            #expect(versionsBefore == versionsAfter)

            await attributesPool.close()
            await eventsPool.close()
            await events.stop()
            await attributes.stop()
            try await ConformanceDump.dump(kafka, instance: attributesSchema)
        }
    }
}

private final class PositionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    func append(_ entry: String) { lock.withLock { entries.append(entry) } }
    var values: [String] { lock.withLock { entries } }
}

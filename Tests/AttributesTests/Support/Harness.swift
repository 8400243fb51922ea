import Attributes
import Foundation
import Kafka
import Messaging
import Postgres
import ServiceKit
import TestSupport

/// The tests speak of "the harness": a driver over one crm-attributes instance.
typealias Harness = ServiceDriver
typealias HarnessResponse = TestSupport.HarnessResponse

extension ServiceDriver {
    /// One crm-attributes instance in this process: its own schema on the test database, its own
    /// embedded Kafka cluster with every topic of TOPICS.md, driven through its HTTP router.
    static func run(_ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        try await HarnessGate.shared.withPermit {
            let url = try TestDatabase.url()
            try await TestKafka.with { kafka in
                if let cluster = kafka.cluster {
                    try await cluster.createTopics(TopicCatalogue.specs(partitions: 3, replicationFactor: 3))
                }
                let schema = TestDatabase.uniqueSchema("attr")
                let environment = ServiceDriver.environment(databaseURL: url, kafka: kafka)
                let (application, host) = try await AttributesService.makeApplication(environment: environment, schema: schema)
                let producer = try KafkaProducer(configuration: kafka.configuration)
                let issuer = try await TokenIssuer(hmacSecret: ServiceDriver.jwtSecret)
                do {
                    try await application.application.test(.router) { client in
                        try await body(ServiceDriver(client: client, kafka: kafka, issuer: issuer, producer: producer, pool: host.pool))
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
    }
}

import Attributes
import TestSupport

/// The tests speak of "the harness": a driver over one crm-attributes instance.
typealias Harness = ServiceDriver
typealias HarnessResponse = TestSupport.HarnessResponse

extension ServiceDriver {
    /// One crm-attributes instance in this process: its own schema on the test database, its own
    /// embedded Kafka cluster with every topic of TOPICS.md, driven through its HTTP router.
    static func run(_ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        try await withInstance(schemaPrefix: "attr") { context in
            let (application, host) = try await AttributesService.makeApplication(
                environment: context.environment, schema: context.schema)
            try await application.application.test(.router) { client in
                try await body(ServiceDriver(
                    application: application,
                    client: client, kafka: context.kafka, issuer: context.issuer, producer: context.producer, pool: host.pool))
            }
        }
    }
}

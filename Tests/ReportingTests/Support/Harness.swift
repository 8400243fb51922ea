import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres
import Reporting
import ServiceKit
import ServiceLifecycle
import TestSupport

typealias Harness = ServiceDriver
typealias HarnessResponse = TestSupport.HarnessResponse

extension ServiceDriver {
    /// One crm-reporting instance: HTTP through a router-only application, and the consumer and
    /// relay in a background instance on the same schema.
    static func run(_ body: @escaping @Sendable (Harness, InstanceContext) async throws -> Void) async throws {
        try await withInstance(schemaPrefix: "rep") { context in
            let background = ReportingInstance(environment: context.environment, schema: context.schema)
            try await background.start()
            do {
                let (application, host) = try await ReportingService.makeApplication(
                    environment: context.environment, schema: context.schema, backgroundServices: false)
                try await application.application.test(.router) { client in
                    let driver = ServiceDriver(
                        client: client, kafka: context.kafka, issuer: context.issuer, producer: context.producer,
                        pool: host.pool, restart: { try await background.restart() })
                    try await body(driver, context)
                }
            } catch {
                await background.stop()
                throw error
            }
            await background.stop()
        }
    }

    /// A second, independent instance on the same broker: its own (empty) schema and consumer
    /// group, reading every topic from the beginning. Dropped afterwards.
    static func second(
        _ context: InstanceContext, _ body: @escaping @Sendable (Harness) async throws -> Void
    ) async throws {
        let schema = TestDatabase.uniqueSchema("rep2")
        var environment = context.environment
        environment["CRM_REPORTING_CONSUMER_GROUP"] = "crm-reporting-rebuild-\(UUID().uuidString.prefix(8))"
        let background = ReportingInstance(environment: environment, schema: schema)
        try await background.start()
        do {
            let (application, host) = try await ReportingService.makeApplication(
                environment: environment, schema: schema, backgroundServices: false)
            try await application.application.test(.router) { client in
                let driver = ServiceDriver(
                    client: client, kafka: context.kafka, issuer: context.issuer, producer: context.producer, pool: host.pool)
                try await body(driver)
            }
        } catch {
            await background.stop()
            try? await dropSchema(schema, url: try TestDatabase.url())
            throw error
        }
        await background.stop()
        try await dropSchema(schema, url: try TestDatabase.url())
    }
}

/// The consumer and relay of a crm-reporting instance in their own service group.
actor ReportingInstance {
    private let environment: [String: String]
    private let schema: String
    private var group: ServiceGroup?
    private var task: Task<Void, any Error>?

    init(environment: [String: String], schema: String) {
        self.environment = environment
        self.schema = schema
    }

    func start() async throws {
        var environment = environment
        environment["CRM_HTTP_PORT"] = String(try freeLocalPort())
        let (application, _) = try await ReportingService.makeApplication(environment: environment, schema: schema)
        let group = ServiceGroup(configuration: .init(services: [application.application], logger: Logger(label: "test-instance")))
        self.group = group
        task = Task { try await group.run() }
    }

    func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
        group = nil
        task = nil
    }

    func restart() async throws {
        await stop()
        try await start()
    }
}

import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import Reporting
import ServiceKit
import TestSupport

typealias Harness = ServiceDriver
typealias HarnessResponse = TestSupport.HarnessResponse

extension ServiceDriver {
    /// One crm-reporting instance: HTTP through a router-only application, and the consumer and
    /// relay in a background instance on the same schema.
    static func run(_ body: @escaping @Sendable (Harness, InstanceContext) async throws -> Void) async throws {
        try await withInstance(schemaPrefix: "rep") { context in
            let background = reportingInstance(environment: context.environment, schema: context.schema)
            try await background.start()
            do {
                let (application, host) = try await ReportingService.makeApplication(
                    environment: context.environment, schema: context.schema, backgroundServices: false)
                try await application.application.test(.router) { client in
                    let driver = ServiceDriver(
                        application: application,
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
        let background = reportingInstance(environment: environment, schema: schema)
        try await background.start()
        do {
            let (application, host) = try await ReportingService.makeApplication(
                environment: environment, schema: schema, backgroundServices: false)
            try await application.application.test(.router) { client in
                let driver = ServiceDriver(
                    application: application,
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
func reportingInstance(environment: [String: String], schema: String) -> BackgroundInstance {
    BackgroundInstance(environment: environment) { environment in
        try await ReportingService.makeApplication(environment: environment, schema: schema).0
    }
}

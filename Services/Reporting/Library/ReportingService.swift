import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// crm-reporting: project and segment aggregates maintained from the streams.
public enum ReportingService {
    public static let name = "crm-reporting"
    public static let schema = "reporting"
    public static let defaultHTTPPort = 8085

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationsMissing()
        }
        return try Migration.load(from: directory)
    }

    /// Prepares the host and builds the application with its one consumer of every source topic.
    /// `CRM_REPORTING_CONSUMER_GROUP` (default `crm-reporting`) names the consumer group; a new
    /// group on an empty schema rebuilds every figure from the (compacted) topics.
    public static func makeApplication(
        environment: [String: String] = ProcessInfo.processInfo.environment, schema: String = schema,
        backgroundServices: Bool = true
    ) async throws -> (CRMApplication, ServiceHost) {
        let host = try await ServiceHost.prepare(
            serviceName: name, schema: schema, defaultHTTPPort: defaultHTTPPort, migrations: try migrations(),
            environment: environment)
        let group = environment["CRM_REPORTING_CONSUMER_GROUP"].flatMap { $0.isEmpty ? nil : $0 } ?? name
        var consumers: [ConsumerRuntime] = []
        if backgroundServices {
            consumers.append(try host.consumer(
                group: group, topics: ReportingHandler.topics,
                handler: ReportingHandler(publisher: ReportPublisher(outbox: host.outbox))))
        }
        let routes = ReportRoutes(pool: host.pool)
        let application = try await host.application(
            consumers: consumers, backgroundServices: backgroundServices, openAPI: try OpenAPIDocument(resourceIn: .module)
        ) { router in
            routes.register(on: router)
        }
        return (application, host)
    }

    struct MigrationsMissing: Error, CustomStringConvertible {
        var description: String { "the crm-reporting migrations are missing from the bundle" }
    }
}

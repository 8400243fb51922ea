import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// crm-documents: customer and supplier orders, and the document structure ("based on" graph)
/// over orders and events.
public enum DocumentsService {
    public static let name = "crm-documents"
    public static let schema = "documents"
    public static let defaultHTTPPort = 8083

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationsMissing()
        }
        return try Migration.load(from: directory)
    }

    /// Prepares the host and builds the application with its two consumers: the catalog
    /// projections and the events projection (separate groups, so a burst of events never
    /// delays catalog changes).
    public static func makeApplication(
        environment: [String: String] = ProcessInfo.processInfo.environment, schema: String = schema,
        backgroundServices: Bool = true
    ) async throws -> (CRMApplication, ServiceHost) {
        let settings = try DocumentsSettings(environment: environment)
        let host = try await ServiceHost.prepare(
            serviceName: name, schema: schema, defaultHTTPPort: defaultHTTPPort, migrations: try migrations(),
            environment: environment)
        let store = OrderStore(outbox: host.outbox, defaultCurrency: settings.defaultCurrency)
        // A consumer joins its group when created, so build them only where they will run.
        var consumers: [ConsumerRuntime] = []
        if backgroundServices {
            consumers.append(try host.consumer(
                group: "\(name).catalog", topics: CatalogProjectionHandler.topics, handler: CatalogProjectionHandler()))
            consumers.append(try host.consumer(
                group: "\(name).events", topics: EventProjectionHandler.topics, handler: EventProjectionHandler()))
        }
        let routes = DocumentRoutes(pool: host.pool, store: store, idempotency: host.idempotency)
        let application = try await host.application(
            consumers: consumers, backgroundServices: backgroundServices, openAPI: try OpenAPIDocument(resourceIn: .module)
        ) { router in
            routes.register(on: router)
        }
        return (application, host)
    }

    struct MigrationsMissing: Error, CustomStringConvertible {
        var description: String { "the crm-documents migrations are missing from the bundle" }
    }
}

/// `CRM_DEFAULT_CURRENCY`: the ISO 4217 code of an order that names none (default `RUB`).
struct DocumentsSettings: Sendable {
    var defaultCurrency = "RUB"

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(environment: [String: String]) throws {
        if let text = environment["CRM_DEFAULT_CURRENCY"], !text.isEmpty {
            guard text.utf8.count == 3, text.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else {
                throw Invalid(description: "CRM_DEFAULT_CURRENCY must be an ISO 4217 code such as RUB, not '\(text)'")
            }
            defaultCurrency = text
        }
    }
}

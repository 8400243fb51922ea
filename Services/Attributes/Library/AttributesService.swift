import Contracts
import Foundation
import Postgres
import ServiceKit

/// crm-attributes: the catalogs and the additional-attribute sets and values of every kind.
public enum AttributesService {
    public static let name = "crm-attributes"
    public static let schema = "attributes"
    public static let defaultHTTPPort = 8081

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationsMissing()
        }
        return try Migration.load(from: directory)
    }

    /// Prepares the host (schema, pool, topics, producer) and builds the application with its
    /// consumer of event and document ids.
    public static func makeApplication(
        environment: [String: String] = ProcessInfo.processInfo.environment, schema: String = schema
    ) async throws -> (CRMApplication, ServiceHost) {
        let host = try await ServiceHost.prepare(
            serviceName: name, schema: schema, defaultHTTPPort: defaultHTTPPort, migrations: try migrations(),
            environment: environment)
        let countryCode = host.configuration.defaultCountryCode
        let sets = AttributeSetStore(outbox: host.outbox)
        let values = AttributeValueStore(outbox: host.outbox, sets: sets)
        let routes = AttributesRoutes(
            pool: host.pool,
            catalogs: CatalogStore(outbox: host.outbox, values: values, validator: FieldValidator(defaultCountryCode: countryCode)),
            sets: sets, values: values, defaultCountryCode: countryCode, idempotency: host.idempotency)
        let knownObjects = try host.consumer(topics: [Topic.events, Topic.documents], handler: KnownObjectsHandler())
        let application = try await host.application(
            consumers: [knownObjects], openAPI: try OpenAPIDocument(resourceIn: .module)
        ) { router in
            routes.register(on: router)
        }
        return (application, host)
    }

    struct MigrationsMissing: Error, CustomStringConvertible {
        var description: String { "the crm-attributes migrations are missing from the bundle" }
    }
}

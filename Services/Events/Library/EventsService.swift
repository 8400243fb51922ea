import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// crm-events: the Event document, the interaction history and telephony ingestion.
public enum EventsService {
    public static let name = "crm-events"
    public static let schema = "events"
    public static let defaultHTTPPort = 8082

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationsMissing()
        }
        return try Migration.load(from: directory)
    }

    /// Prepares the host and builds the application with its consumers: the catalog
    /// projections and the call records (separate groups, so a backlog of calls never delays
    /// catalog changes). The call records get `CRM_TELEPHONY_CONSUMERS` members of their group,
    /// so one batch's transaction runs while another is being read and built: a single member
    /// leaves the database idle while it builds, and the other way round.
    public static func makeApplication(
        environment: [String: String] = ProcessInfo.processInfo.environment, schema: String = schema,
        backgroundServices: Bool = true
    ) async throws -> (CRMApplication, ServiceHost) {
        let host = try await ServiceHost.prepare(
            serviceName: name, schema: schema, defaultHTTPPort: defaultHTTPPort, migrations: try migrations(),
            environment: environment)
        let settings = try TelephonySettings(environment: environment, defaultCountryCode: host.configuration.defaultCountryCode)
        let store = EventStore(outbox: host.outbox)
        // A consumer joins its group when created, so build them only where they will run.
        var consumers: [ConsumerRuntime] = []
        if backgroundServices {
            consumers.append(try host.consumer(
                group: "\(name).catalog", topics: CatalogProjectionHandler.topics,
                handler: CatalogProjectionHandler(defaultCountryCode: settings.defaultCountryCode)))
            let telephony = TelephonyHandler(
                store: store, defaultCountryCode: settings.defaultCountryCode, callbackSLA: settings.callbackSLA,
                fallbackEmployee: settings.fallbackEmployee)
            consumers += try host.consumers(
                group: "\(name).telephony", topics: [Topic.telephonyCalls], handler: telephony, members: settings.consumers)
        }
        let routes = EventRoutes(pool: host.pool, store: store, idempotency: host.idempotency)
        let application = try await host.application(
            consumers: consumers, backgroundServices: backgroundServices, openAPI: try OpenAPIDocument(resourceIn: .module)
        ) { router in
            routes.register(on: router)
        }
        return (application, host)
    }

    struct MigrationsMissing: Error, CustomStringConvertible {
        var description: String { "the crm-events migrations are missing from the bundle" }
    }
}

/// `CRM_CALLBACK_SLA` (seconds or `90s`, `30m`, `1h`; default 1 h),
/// `CRM_TELEPHONY_FALLBACK_EMPLOYEE` (an employee id, optional) and `CRM_TELEPHONY_CONSUMERS`
/// (members of the call records' group, 1 to 16, default 2); the country code comes from the
/// service configuration.
struct TelephonySettings: Sendable {
    var defaultCountryCode: String
    var callbackSLA: TimeInterval = 3600
    var fallbackEmployee: UUID?
    /// Each member holds its own partitions (so per-key order holds) and one database session
    /// while it applies a batch. Two by default: on the two-core dev machine (release, 100,000
    /// calls in one burst) one member ingested 1,504 calls/s at 87 MB peak RSS, two 2,000 at
    /// 101 MB, three 2,602 at 105 MB, four 2,829 at 118 MB. More members go faster where memory
    /// allows; the budget is 100 MB a service.
    var consumers = 2
    static let consumerRange = 1...16

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(environment: [String: String], defaultCountryCode: String) throws {
        self.defaultCountryCode = defaultCountryCode
        if let text = environment["CRM_CALLBACK_SLA"], !text.isEmpty {
            let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600]
            let unit = text.last.flatMap { units[$0] }
            guard let amount = Double(unit == nil ? text : String(text.dropLast())), amount > 0 else {
                throw Invalid(description: "CRM_CALLBACK_SLA must be a duration such as 3600, 45m or 1h, not '\(text)'")
            }
            callbackSLA = amount * (unit ?? 1)
        }
        if let text = environment["CRM_TELEPHONY_FALLBACK_EMPLOYEE"], !text.isEmpty {
            guard let id = UUID(uuidString: text) else {
                throw Invalid(description: "CRM_TELEPHONY_FALLBACK_EMPLOYEE must be an employee id (UUID), not '\(text)'")
            }
            fallbackEmployee = id
        }
        if let text = environment["CRM_TELEPHONY_CONSUMERS"], !text.isEmpty {
            guard let count = Int(text), Self.consumerRange.contains(count) else {
                throw Invalid(description: "CRM_TELEPHONY_CONSUMERS must be a whole number from 1 to 16, not '\(text)'")
            }
            consumers = count
        }
    }
}

import ArgumentParser
import Attributes
import CalendarService
import Documents
import Events
import Foundation
import Messaging
import Postgres
import Reporting
import ServiceKit

/// The service a recovery command works on: its schema and what it can republish.
enum ServiceName: String, ExpressibleByArgument, CaseIterable {
    case attributes, events, documents, calendar, reporting

    var schema: String {
        switch self {
        case .attributes: AttributesService.schema
        case .events: EventsService.schema
        case .documents: DocumentsService.schema
        case .calendar: CalendarService.schema
        case .reporting: ReportingService.schema
        }
    }

    var republisher: any SnapshotRepublisher {
        switch self {
        case .attributes: AttributesService.republisher()
        case .events: EventsService.republisher()
        case .documents: DocumentsService.republisher()
        case .calendar: CalendarService.republisher()
        case .reporting: ReportingService.republisher()
        }
    }
}

/// `--database-url`, defaulting to `CRM_DATABASE_URL` and then the local stack's database.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, else the local stack's).")
    var databaseURL: String?

    func pool(schema: String) -> PostgresPool {
        let environment = ProcessInfo.processInfo.environment["CRM_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let url = databaseURL ?? environment ?? ServiceConfiguration.defaultDatabaseURL
        // Operator commands may run long statements over big tables.
        return PostgresPool(.init(url: url, searchPath: schema, maxConnections: 2, applicationName: "crm-cli", session: .unlimited))
    }
}

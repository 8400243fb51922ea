import CalendarService
import Contracts
import Foundation
import HTTPTypes
import HummingbirdTesting
import Kafka
import Messaging
import Postgres
import ServiceKit
import TestSupport

/// A clock the test moves by hand: overdue checks, reminders and the feed all read it, so no
/// test waits for real minutes.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date) { current = start }

    var now: Date { lock.withLock { current } }

    func set(_ date: Date) { lock.withLock { current = date } }

    func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// The instant every test's clock starts at: Monday 2030-03-04 08:00 UTC.
let testEpoch = Date(timeIntervalSince1970: 1_898_841_600)

/// One crm-calendar instance under test: HTTP through a router-only application, the
/// background work (projection consumer, reminder scheduler, relay) in a second instance on the
/// same schema that `restartBackground` stops and starts again, as a process restart would.
struct CalendarHarness: Sendable {
    let driver: ServiceDriver
    let clock: ManualClock
    let context: InstanceContext
    let background: BackgroundInstance

    static let baseEnvironment = [
        "CRM_REMINDER_POLL_INTERVAL": "0.2",
        "CRM_REMINDER_LEAD": "15m",
    ]

    static func run(
        environment extra: [String: String] = [:], _ body: @escaping @Sendable (CalendarHarness) async throws -> Void
    ) async throws {
        try await ServiceDriver.withInstance(schemaPrefix: "cal", extraEnvironment: baseEnvironment.merging(extra) { $1 }) { context in
            let clock = ManualClock(testEpoch)
            let background = calendarInstance(context: context, clock: clock)
            try await background.start()
            do {
                let (application, host) = try await CalendarService.makeApplication(
                    environment: context.environment, schema: context.schema, backgroundServices: false, now: { clock.now })
                try await application.application.test(.router) { client in
                    let driver = ServiceDriver(
                        application: application,
                        client: client, kafka: context.kafka, issuer: context.issuer, producer: context.producer,
                        pool: host.pool, restart: { try await background.restart() })
                    try await body(CalendarHarness(driver: driver, clock: clock, context: context, background: background))
                }
            } catch {
                await background.stop()
                throw error
            }
            await background.stop()
        }
    }

    var pool: PostgresPool { driver.pool }

    func request(
        _ method: HTTPRequest.Method, _ path: String, role: Role? = .admin, subject: String? = nil, json: String? = nil
    ) async throws -> HarnessResponse {
        try await driver.request(method, path, role: role, subject: subject, json: json)
    }

    // MARK: - Publishing snapshots the way crm-attributes and crm-events do

    /// Publishes an employee on `crm.employees.v1` and waits until the calendar applied it.
    @discardableResult
    func seedEmployee(
        id: String = newId(), name: String, timeZone: String = "UTC", active: Bool = true, phoneExtension: String? = nil,
        deleted: Bool = false, version: Int = 1
    ) async throws -> String {
        try await publishCatalog(Topic.employees, "employee", id: id, version: version, deleted: deleted, data: [
            "name": .string(name), "timeZone": .string(timeZone), "active": .bool(active),
            "phoneExtension": phoneExtension.map(JSONValue.string) ?? .null, "email": .null,
        ])
        try await waitFor("employees", id: id, version: version)
        return id
    }

    @discardableResult
    func seedCounterparty(id: String = newId(), name: String, phones: [String] = [], version: Int = 1) async throws -> String {
        try await publishCatalog(Topic.counterparties, "counterparty", id: id, version: version, deleted: false, data: [
            "name": .string(name), "kind": .string("company"), "phones": .array(phones.map(JSONValue.string)),
        ])
        try await waitFor("counterparties", id: id, version: version)
        return id
    }

    func publishCatalog(
        _ topic: String, _ kind: String, id: String, version: Int, deleted: Bool, data: [String: JSONValue]
    ) async throws {
        var snapshot = data
        snapshot["id"] = .string(id)
        snapshot["deleted"] = .bool(deleted)
        snapshot["version"] = .number(Double(version))
        let event = CloudEvent(
            source: "crm-attributes", type: "crm.\(kind).\(deleted ? "deleted" : "upserted")", subject: id,
            version: Int64(version), data: JSONValue.object(snapshot))
        try await driver.publish(topic: topic, key: id, value: String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self))
    }

    /// Publishes an event snapshot on `crm.events.v1` (without waiting).
    func publish(_ event: EventFixture) async throws {
        try await driver.publish(topic: Topic.events, key: event.id, value: event.cloudEvent)
    }

    /// Publishes an event snapshot and waits until the calendar holds that version (or newer).
    func apply(_ event: EventFixture) async throws {
        try await publish(event)
        try await waitFor("entries", id: event.id, version: event.version, key: "event_id")
    }

    /// Waits until the projection table holds `id` at `version` or newer.
    func waitFor(_ table: String, id: String, version: Int, key: String = "id", timeout: Duration = .seconds(30)) async throws {
        let applied = try await eventually(timeout: timeout) {
            try await !pool.query("""
                SELECT 1 FROM \(identifier: table) WHERE \(identifier: key) = \(UUID(uuidString: id)!) AND version >= \(version)
                """).isEmpty
        }
        guard applied else { throw MissingTestEnvironment("crm-calendar did not apply \(table) \(id) v\(version) within \(timeout)") }
    }

    /// The reminders of an event as (status, startsAt) pairs.
    func reminderRows(_ eventId: String) async throws -> [(status: String, startsAt: Date)] {
        try await pool.query("""
            SELECT status, starts_at FROM reminders WHERE event_id = \(UUID(uuidString: eventId)!) ORDER BY starts_at
            """).map { (try $0.decode("status"), try $0.decode("starts_at")) }
    }

    func restartBackground() async throws { try await background.restart() }
}

/// The consumers, scheduler and relay of a crm-calendar instance on the test's clock.
func calendarInstance(context: InstanceContext, clock: ManualClock, environment extra: [String: String] = [:]) -> BackgroundInstance {
    BackgroundInstance(environment: context.environment.merging(extra) { $1 }) { [schema = context.schema] environment in
        try await CalendarService.makeApplication(environment: environment, schema: schema, now: { clock.now }).0
    }
}

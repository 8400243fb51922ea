import Contracts
import Events
import Foundation
import Kafka
import Messaging
import Postgres
import ServiceKit
import TestSupport

/// The tests speak of "the harness": a driver over one crm-events instance.
typealias Harness = ServiceDriver
typealias HarnessResponse = TestSupport.HarnessResponse

extension ServiceDriver {
    /// An employee the harness seeds and names as `CRM_TELEPHONY_FALLBACK_EMPLOYEE`.
    static let fallbackEmployee = "00000000-0000-0000-0000-0000000000fb"

    /// One crm-events instance: HTTP through a router-only application, and the background work
    /// (consumers, relay) in a second instance on the same schema that `restart` stops and
    /// starts again, as a process restart would.
    static func run(_ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        try await withInstance(schemaPrefix: "ev", extraEnvironment: [
            "CRM_CALLBACK_SLA": "3600",
            "CRM_TELEPHONY_FALLBACK_EMPLOYEE": fallbackEmployee,
        ]) { context in
            let background = BackgroundInstance(environment: context.environment) { [schema = context.schema] environment in
                try await EventsService.makeApplication(environment: environment, schema: schema).0
            }
            try await background.start()
            do {
                let (application, host) = try await EventsService.makeApplication(
                    environment: context.environment, schema: context.schema, backgroundServices: false)
                try await application.application.test(.router) { client in
                    let driver = ServiceDriver(
                        application: application,
                        client: client, kafka: context.kafka, issuer: context.issuer, producer: context.producer,
                        pool: host.pool, restart: { try await background.restart() })
                    _ = try await driver.seedEmployee(id: fallbackEmployee, name: "Reception")
                    try await body(driver)
                }
            } catch {
                await background.stop()
                throw error
            }
            await background.stop()
        }
    }

    func restartService() async throws { try await restart() }

    // MARK: - Seeding the catalog projections the way crm-attributes publishes them

    @discardableResult
    func seedCounterparty(
        id: String = UUID().uuidString.lowercased(), name: String, phones: [String] = [], deleted: Bool = false, version: Int = 1
    ) async throws -> String {
        try await seed(Topic.counterparties, "counterparty", table: "counterparties", id: id, version: version, deleted: deleted,
                       data: ["name": .string(name), "phones": .array(phones.map(JSONValue.string)), "kind": .string("company")])
    }

    @discardableResult
    func seedContact(
        id: String = UUID().uuidString.lowercased(), counterpartyId: String, name: String, phones: [String] = [],
        deleted: Bool = false, version: Int = 1
    ) async throws -> String {
        try await seed(Topic.contacts, "contact", table: "contacts", id: id, version: version, deleted: deleted, data: [
            "name": .string(name), "counterpartyId": .string(counterpartyId), "phones": .array(phones.map(JSONValue.string)),
        ])
    }

    @discardableResult
    func seedEmployee(
        id: String = UUID().uuidString.lowercased(), name: String, phoneExtension: String? = nil, deleted: Bool = false,
        version: Int = 1
    ) async throws -> String {
        try await seed(Topic.employees, "employee", table: "employees", id: id, version: version, deleted: deleted, data: [
            "name": .string(name), "phoneExtension": phoneExtension.map(JSONValue.string) ?? .null, "timeZone": .string("UTC"),
        ])
    }

    @discardableResult
    func seedProject(id: String = UUID().uuidString.lowercased(), name: String, deleted: Bool = false, version: Int = 1) async throws -> String {
        try await seed(Topic.projects, "project", table: "projects", id: id, version: version, deleted: deleted,
                       data: ["name": .string(name), "state": .string("active")])
    }

    @discardableResult
    func seedDeal(
        id: String = UUID().uuidString.lowercased(), name: String, counterpartyId: String, deleted: Bool = false, version: Int = 1
    ) async throws -> String {
        try await seed(Topic.deals, "deal", table: "deals", id: id, version: version, deleted: deleted,
                       data: ["name": .string(name), "counterpartyId": .string(counterpartyId)])
    }

    /// Publishes a counterparty snapshot without waiting for the service to apply it.
    func publishCounterparty(id: String, name: String, phones: [String] = [], version: Int = 1) async throws {
        try await publishSnapshot(Topic.counterparties, "counterparty", id: id, version: version, deleted: false,
                                  data: ["name": .string(name), "phones": .array(phones.map(JSONValue.string))])
    }

    private func seed(
        _ topic: String, _ kind: String, table: String, id: String, version: Int, deleted: Bool, data: [String: JSONValue]
    ) async throws -> String {
        try await publishSnapshot(topic, kind, id: id, version: version, deleted: deleted, data: data)
        let applied = try await eventually(timeout: .seconds(30)) {
            try await !pool.query("""
                SELECT 1 FROM \(identifier: table) WHERE id = \(UUID(uuidString: id)!) AND version >= \(version)
                """).isEmpty
        }
        guard applied else { throw MissingTestEnvironment("crm-events did not apply \(kind) \(id) within 30 s") }
        return id
    }

    private func publishSnapshot(
        _ topic: String, _ kind: String, id: String, version: Int, deleted: Bool, data: [String: JSONValue]
    ) async throws {
        var snapshot = data
        snapshot["id"] = .string(id)
        snapshot["deleted"] = .bool(deleted)
        snapshot["version"] = .number(Double(version))
        let event = CloudEvent(
            source: "crm-attributes", type: "crm.\(kind).\(deleted ? "deleted" : "upserted")", subject: id,
            version: Int64(version), data: JSONValue.object(snapshot))
        let value = String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self)
        try await publish(topic: topic, key: id, value: value)
    }
}


import Contracts
import Documents
import Foundation
import Kafka
import Messaging
import Postgres
import ServiceKit
import TestSupport

/// The tests speak of "the harness": a driver over one crm-documents instance.
typealias Harness = ServiceDriver

extension ServiceDriver {
    /// One crm-documents instance: HTTP through a router-only application, and the background
    /// work (consumers, relay) in a second instance on the same schema, as in the crm-events tests.
    static func run(_ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        try await withInstance(schemaPrefix: "doc", extraEnvironment: ["CRM_DEFAULT_CURRENCY": "RUB"]) { context in
            let background = BackgroundInstance(environment: context.environment) { [schema = context.schema] environment in
                try await DocumentsService.makeApplication(environment: environment, schema: schema).0
            }
            try await background.start()
            do {
                let (application, host) = try await DocumentsService.makeApplication(
                    environment: context.environment, schema: context.schema, backgroundServices: false)
                try await application.application.test(.router) { client in
                    let driver = ServiceDriver(
                        application: application,
                        client: client, kafka: context.kafka, issuer: context.issuer, producer: context.producer,
                        pool: host.pool, restart: { try await background.restart() })
                    try await body(driver)
                }
            } catch {
                await background.stop()
                throw error
            }
            await background.stop()
        }
    }

    // MARK: - Publishing what crm-attributes and crm-events publish

    /// Publishes a catalog snapshot the way crm-attributes does, without waiting.
    func publishCatalog(
        _ topic: String, _ kind: String, id: String, version: Int = 1, deleted: Bool = false, data: [String: JSONValue]
    ) async throws {
        var snapshot = data
        snapshot["id"] = .string(id)
        snapshot["deleted"] = .bool(deleted)
        snapshot["version"] = .number(Double(version))
        let event = CloudEvent(
            source: "crm-attributes", type: "crm.\(kind).\(deleted ? "deleted" : "upserted")", subject: id,
            version: Int64(version), data: JSONValue.object(snapshot))
        try await publish(topic: topic, key: id, value: String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self))
    }

    /// Publishes an event snapshot the way crm-events does, without waiting.
    func publishEvent(_ event: SeedEvent) async throws {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let data: [String: JSONValue] = [
            "id": .string(event.id), "number": .string(event.number), "channel": .string("phone-call"),
            "direction": .string("outgoing"), "state": .string(event.state), "subject": .string(event.subject),
            "content": .null, "counterpartyId": text(event.counterpartyId), "contactId": text(event.contactId),
            "dealId": text(event.dealId), "projectId": text(event.projectId), "responsibleId": text(event.responsibleId),
            "startsAt": text(event.startsAt), "endsAt": .null,
            "basis": event.basisId.map { .object(["kind": .string("event"), "id": .string($0)]) } ?? .null,
            "authorId": .string(Harness.defaultSubject(for: .manager)), "createdAt": .string(event.createdAt),
            "updatedAt": .string(event.createdAt), "source": .string("api"), "call": .null, "unmatched": .bool(false),
            "deleted": .bool(event.deleted), "version": .number(Double(event.version)),
        ]
        let type = event.deleted ? "crm.event.deleted" : event.version == 1 ? "crm.event.created" : "crm.event.updated"
        let envelope = CloudEvent(
            source: "crm-events", type: type, subject: event.id, version: Int64(event.version), data: JSONValue.object(data))
        try await publish(
            topic: Topic.events, key: event.id, value: String(decoding: try CRMJSON.makeEncoder().encode(envelope), as: UTF8.self))
    }

    /// Publishes an event and waits until the service holds that version of it.
    @discardableResult
    func seedEvent(_ event: SeedEvent) async throws -> String {
        try await publishEvent(event)
        try await waitFor("events", ids: [event.id], version: event.version)
        return event.id
    }

    /// Waits until every id is in the projection table with at least `version`.
    func waitFor(_ table: String, ids: [String], version: Int = 1) async throws {
        let uuids = ids.map { UUID(uuidString: $0)! }
        let applied = try await eventually(timeout: .seconds(30)) {
            let rows = try await pool.query("""
                SELECT count(*) AS n FROM \(identifier: table) WHERE id = ANY(\(uuids)::uuid[]) AND version >= \(version)
                """)
            return try rows[0].decode("n", as: Int.self) == uuids.count
        }
        guard applied else { throw MissingTestEnvironment("crm-documents did not apply \(table) \(ids) within 30 s") }
    }

    /// Seeds a counterparty, a contact of it, a deal, a project, two employees and two products
    /// (one without a price) through the catalog topics, publishing everything before waiting.
    func seedWorld() async throws -> World {
        let world = World(
            counterparty: newId(), contact: newId(), deal: newId(), project: newId(), employee: newId(),
            otherCounterparty: newId(), otherContact: newId(), otherDeal: newId(), otherEmployee: newId(),
            product: newId(), unpricedProduct: newId())
        try await publishCatalog(Topic.counterparties, "counterparty", id: world.counterparty, data: ["name": .string("Acme")])
        try await publishCatalog(Topic.counterparties, "counterparty", id: world.otherCounterparty, data: ["name": .string("Globex")])
        try await publishCatalog(Topic.contacts, "contact", id: world.contact,
                                 data: ["name": .string("Pavel"), "counterpartyId": .string(world.counterparty)])
        try await publishCatalog(Topic.contacts, "contact", id: world.otherContact,
                                 data: ["name": .string("Maria"), "counterpartyId": .string(world.otherCounterparty)])
        try await publishCatalog(Topic.deals, "deal", id: world.deal, data: ["name": .string("Supply"), "counterpartyId": .string(world.counterparty)])
        try await publishCatalog(Topic.deals, "deal", id: world.otherDeal,
                                 data: ["name": .string("Service"), "counterpartyId": .string(world.otherCounterparty)])
        try await publishCatalog(Topic.projects, "project", id: world.project, data: ["name": .string("Launch"), "state": .string("active")])
        try await publishCatalog(Topic.employees, "employee", id: world.employee, data: ["name": .string("Olga"), "timeZone": .string("UTC")])
        try await publishCatalog(Topic.employees, "employee", id: world.otherEmployee, data: ["name": .string("Sergey"), "timeZone": .string("UTC")])
        try await publishCatalog(Topic.products, "product", id: world.product, data: [
            "name": .string("Widget"), "sku": .string("W-1"), "unit": .string("pcs"), "price": .string("1500.00"), "currency": .string("RUB"),
        ])
        try await publishCatalog(Topic.products, "product", id: world.unpricedProduct, data: ["name": .string("Consulting hour"), "price": .null])
        try await waitFor("counterparties", ids: [world.counterparty, world.otherCounterparty])
        try await waitFor("contacts", ids: [world.contact, world.otherContact])
        try await waitFor("deals", ids: [world.deal, world.otherDeal])
        try await waitFor("projects", ids: [world.project])
        try await waitFor("employees", ids: [world.employee, world.otherEmployee])
        try await waitFor("products", ids: [world.product, world.unpricedProduct])
        return world
    }
}

/// The catalog objects a test's orders refer to.
struct World: Sendable {
    let counterparty: String
    let contact: String
    let deal: String
    let project: String
    let employee: String
    /// A second counterparty with its own contact and deal.
    let otherCounterparty: String
    let otherContact: String
    let otherDeal: String
    let otherEmployee: String
    /// "Widget", price 1500.00.
    let product: String
    /// "Consulting hour", no price.
    let unpricedProduct: String
}

/// An event as crm-events publishes it on `crm.events.v1`.
struct SeedEvent: Sendable {
    var id = newId()
    var number = "EV-\(Int.random(in: 100_000...999_999))"
    var state = "planned"
    var subject = "Call"
    var startsAt: String? = "2026-12-01T10:00:00.000Z"
    var createdAt = "2026-11-30T09:00:00.000Z"
    var counterpartyId: String?
    var contactId: String?
    var dealId: String?
    var projectId: String?
    var responsibleId: String?
    var basisId: String?
    var deleted = false
    var version = 1
}


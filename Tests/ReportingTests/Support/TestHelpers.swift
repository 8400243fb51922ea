import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport

// Helpers of the crm-reporting tests. Sources are fed the way crm-attributes, crm-events and
// crm-documents publish them (CloudEvent snapshots on their topics); reports are read over HTTP
// and decoded into the Sendable views below (synchronously, never as [String: Any] across awaits).

func newId() -> String { UUID().uuidString.lowercased() }

func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}

struct AttributeSpec: Sendable {
    var key: String
    var type: String
    var options: [String] = []
}

extension ServiceDriver {
    // MARK: Publishing snapshots

    func publishSnapshot(topic: String, key: String, type: String, subject: String, version: Int, data: JSONValue) async throws {
        let event = CloudEvent(source: "test", type: type, subject: subject, version: Int64(version), data: data)
        let value = String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self)
        try await publish(topic: topic, key: key, value: value)
    }

    func publishCatalog(_ topic: String, _ kind: String, id: String, name: String, version: Int = 1, deleted: Bool = false) async throws {
        try await publishSnapshot(
            topic: topic, key: id, type: "crm.\(kind).\(deleted ? "deleted" : "upserted")", subject: id, version: version,
            data: .object(["id": .string(id), "name": .string(name), "deleted": .bool(deleted), "version": .number(Double(version))]))
    }

    func publishAttributeSet(kind: String, version: Int, _ attributes: [AttributeSpec]) async throws {
        let items = attributes.enumerated().map { index, spec -> JSONValue in
            .object([
                "id": .string(newId()), "key": .string(spec.key), "name": .string(spec.key), "type": .string(spec.type),
                "options": .array(spec.options.map(JSONValue.string)), "referenceKind": spec.type == "reference" ? .string("employee") : .null,
                "required": .bool(false), "position": .number(Double(index + 1)), "description": .null,
            ])
        }
        try await publishSnapshot(
            topic: Topic.attributeSets, key: kind, type: "crm.attribute-set.changed", subject: kind, version: version,
            data: .object(["kind": .string(kind), "version": .number(Double(version)), "attributes": .array(items)]))
    }

    func publishValues(kind: String, id: String, version: Int, _ values: [String: JSONValue]) async throws {
        let key = "\(kind):\(id)"
        try await publishSnapshot(
            topic: Topic.attributeValues, key: key, type: "crm.attribute-values.changed", subject: key, version: version,
            data: .object(["kind": .string(kind), "objectId": .string(id), "version": .number(Double(version)), "values": .object(values)]))
    }

    func publishEvent(_ event: EventSnapshot) async throws {
        try await publish(topic: Topic.events, key: event.id, value: event.message())
    }

    func publishOrder(_ order: OrderSnapshot) async throws {
        try await publish(topic: Topic.documents, key: order.id, value: order.message())
    }

    // MARK: Waiting until the consumer applied something

    /// Waits until the fact table holds `id` at `version` or newer.
    func waitFact(_ table: String, _ id: String, version: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let applied = try await eventually(timeout: .seconds(40)) {
            try await !pool.query("""
                SELECT 1 FROM \(identifier: table) WHERE id = \(UUID(uuidString: id)!) AND version >= \(version)
                """).isEmpty
        }
        #expect(applied, "\(table) \(id) v\(version) was not applied", sourceLocation: sourceLocation)
    }

    func waitValues(kind: String, _ id: String, version: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let applied = try await eventually(timeout: .seconds(40)) {
            try await !pool.query("""
                SELECT 1 FROM value_facts WHERE kind = \(kind) AND object_id = \(UUID(uuidString: id)!) AND version >= \(version)
                """).isEmpty
        }
        #expect(applied, "values of \(kind) \(id) v\(version) were not applied", sourceLocation: sourceLocation)
    }

    func waitAttributeSet(kind: String, version: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let applied = try await eventually(timeout: .seconds(40)) {
            try await !pool.query("SELECT 1 FROM attribute_set_facts WHERE kind = \(kind) AND version >= \(version)").isEmpty
        }
        #expect(applied, "attribute set \(kind) v\(version) was not applied", sourceLocation: sourceLocation)
    }

    // MARK: Reading reports

    func get<T: Decodable & Sendable>(_ path: String, as type: T.Type, role: Role = .viewer, sourceLocation: SourceLocation = #_sourceLocation) async throws -> T {
        let response = try await request(.get, path, role: role)
        #expect(response.status == 200, "GET \(path): \(response.status) \(response.text)", sourceLocation: sourceLocation)
        return try decode(T.self, response.text)
    }

    func projectReport(_ id: String) async throws -> ProjectReport {
        try await get("/v1/reports/projects/\(id)", as: ProjectReport.self)
    }

    func segments(_ attribute: String) async throws -> SegmentReport {
        try await get("/v1/reports/segments/counterparty/\(attribute)", as: SegmentReport.self)
    }

    func differences() async throws -> [Difference] {
        try await get("/v1/reports/consistency", as: DifferenceList.self, role: .admin).items
    }
}

func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(text.utf8))
}

// MARK: - Source snapshots

struct EventSnapshot: Sendable {
    var id = newId()
    var version = 1
    var state = "planned"
    var channel = "phone-call"
    var projectId: String?
    var counterpartyId: String?
    var responsibleId: String?
    var startsAt: Date? = Date(timeIntervalSince1970: 1_796_000_000)
    var createdAt = Date(timeIntervalSince1970: 1_795_000_000)
    var completedAt: Date?
    var deleted = false

    var type: String {
        if deleted { return "crm.event.deleted" }
        return switch state {
        case "completed": "crm.event.completed"
        case "cancelled": "crm.event.cancelled"
        default: version == 1 ? "crm.event.created" : "crm.event.updated"
        }
    }

    func message() throws -> String {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func time(_ value: Date?) -> JSONValue { value.map { .string(rfc3339($0)) } ?? .null }
        let data: [String: JSONValue] = [
            "id": .string(id), "number": .string("EV-1"), "channel": .string(channel), "direction": .string("outgoing"),
            "state": .string(state), "subject": .string("Call"), "content": .null,
            "counterpartyId": text(counterpartyId), "contactId": .null, "dealId": .null, "projectId": text(projectId),
            "responsibleId": text(responsibleId), "startsAt": time(startsAt), "endsAt": time(startsAt), "basis": .null,
            "authorId": .null, "createdAt": time(createdAt), "updatedAt": time(completedAt ?? createdAt),
            "completedAt": time(state == "completed" ? completedAt : nil), "cancelledAt": .null, "cancelReason": .null,
            "source": .string("api"), "call": .null, "deleted": .bool(deleted), "version": .number(Double(version)),
        ]
        let event = CloudEvent(source: "crm-events", type: type, subject: id, version: Int64(version), data: JSONValue.object(data))
        return String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self)
    }
}

struct OrderSnapshot: Sendable {
    var id = newId()
    var version = 1
    var customer = true
    var state = "confirmed"
    var counterpartyId: String?
    var currency = "RUB"
    var total = "100.00"
    var deleted = false

    func message() throws -> String {
        let prefix = customer ? "crm.customer-order" : "crm.supplier-order"
        let type = deleted ? "\(prefix).deleted" : "\(prefix).\(state == "draft" ? "created" : state)"
        let data: [String: JSONValue] = [
            "id": .string(id), "number": .string(customer ? "CO-1" : "SO-1"), "state": .string(state),
            "counterpartyId": counterpartyId.map(JSONValue.string) ?? .null, "projectId": .null, "currency": .string(currency),
            "total": .string(total), "date": .string("2026-12-01"), "lines": .array([]), "deleted": .bool(deleted),
            "version": .number(Double(version)), "kind": .string(customer ? "customer-order" : "supplier-order"),
            "createdAt": .string("2026-12-01T09:00:00.000Z"), "updatedAt": .string("2026-12-01T09:00:00.000Z"),
        ]
        let event = CloudEvent(source: "crm-documents", type: type, subject: id, version: Int64(version), data: JSONValue.object(data))
        return String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self)
    }
}

// MARK: - Report views

struct ProjectSummary: Codable, Sendable, Equatable {
    struct Events: Codable, Sendable, Equatable { var total, planned, completed, cancelled: Int }
    var projectId: String
    var name: String
    var events: Events
    var completionRate: Double
}

struct ProjectList: Codable, Sendable { var items: [ProjectSummary]; var nextCursor: String? }

struct ProjectReport: Codable, Sendable, Equatable {
    struct Responsible: Codable, Sendable, Equatable { var employeeId: String; var name: String?; var total: Int; var completed: Int }
    struct Events: Codable, Sendable, Equatable {
        var total: Int
        var byState: [String: Int]
        var byChannel: [String: Int]
        var byResponsible: [Responsible]
    }
    struct Day: Codable, Sendable, Equatable { var date: String; var completed: Int }
    var projectId: String
    var name: String
    var events: Events
    var completionRate: Double
    var attributes: [String: AttributeFigures]
    var timeline: [Day]
    var updatedAt: String?

    /// Everything but `updatedAt` (which says when, not what); days without completions left out.
    var figures: ProjectReport {
        var copy = self
        copy.updatedAt = nil
        copy.timeline = timeline.filter { $0.completed > 0 }
        return copy
    }
}

struct AttributeFigures: Codable, Sendable, Equatable {
    var type: String
    var count: Int
    var avg: JSONValue?
    var min: JSONValue?
    var max: JSONValue?
    var distribution: [String: Int]?
}

struct Orders: Codable, Sendable, Equatable, CustomStringConvertible {
    var count: Int
    var totals: [String: String]
    var description: String { "\(count) \(totals.sorted { $0.key < $1.key })" }
}

struct SegmentFigures: Codable, Sendable, Equatable {
    var total: Int
    var byState: [String: Int]
    var byChannel: [String: Int]
}

struct Segment: Codable, Sendable, Equatable {
    var value: JSONValue
    var counterparties: Int
    var events: SegmentFigures
    var lastEventAt: String?
    var customerOrders: Orders
    var supplierOrders: Orders
}

struct SegmentReport: Codable, Sendable, Equatable {
    var kind: String
    var attribute: String
    var segments: [Segment]

    func segment(_ value: JSONValue) -> Segment? { segments.first { $0.value == value } }
}

struct Member: Codable, Sendable, Equatable {
    var counterpartyId: String
    var name: String
    var events: SegmentFigures
    var lastEventAt: String?
    var customerOrders: Orders
    var supplierOrders: Orders
}

struct MemberPage: Codable, Sendable { var items: [Member]; var nextCursor: String? }

struct Difference: Codable, Sendable, CustomStringConvertible {
    var aggregate: String
    var key: String
    var expected: JSONValue?
    var actual: JSONValue?
    var description: String { "\(aggregate) \(key): expected \(String(describing: expected)), actual \(String(describing: actual))" }
}

struct DifferenceList: Codable, Sendable { var items: [Difference] }

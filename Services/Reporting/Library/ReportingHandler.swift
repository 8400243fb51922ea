import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Applies every snapshot crm-reporting consumes to its facts and, in the same transaction, the
/// difference to the aggregates (the `ingest_*` functions of the migrations). A snapshot that is
/// not newer than the fact row changes nothing. At the end of each batch it publishes one report
/// snapshot per project and segment the batch changed.
struct ReportingHandler: MessageHandler {
    let publisher: ReportPublisher

    static let topics = [
        Topic.events, Topic.documents, Topic.projects, Topic.counterparties, Topic.employees,
        Topic.attributeSets, Topic.attributeValues,
    ]

    static let states: Set<String> = ["planned", "completed", "cancelled"]
    static let channels: Set<String> = ["phone-call", "email", "meeting", "message", "other"]
    static let orderStates: Set<String> = ["draft", "confirmed", "completed", "cancelled"]

    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        // The aggregates are shared by every partition: a counterparty's segment move reads its
        // rollup, which an event of another partition may change at the same time. Batches of
        // all instances are therefore applied one at a time (held until the batch commits; taken
        // again harmlessly for every message), so no delta is lost and no two batches deadlock.
        // Keyed by schema: reporting deployments (or tests) in other schemas of the database are
        // not held up.
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext('crm.reporting.aggregates.' || current_schema()))")
        let envelope: CloudEvent<JSONValue>
        do {
            envelope = try CRMJSON.makeDecoder().decode(CloudEvent<JSONValue>.self, from: Data(message.value ?? []))
        } catch let error as DecodingError {
            throw PermanentFailure("not a CloudEvent snapshot: \(error.reason)")
        }
        guard let data = envelope.data.objectValue else { throw PermanentFailure("\(envelope.type): data is not an object") }
        let version = envelope.version
        let snapshot = Snapshot(data: data, type: envelope.type)

        switch message.topic {
        case Topic.events:
            try await ingestEvent(snapshot, subject: envelope.subject, version: version, in: transaction)
        case Topic.documents:
            try await ingestOrder(snapshot, subject: envelope.subject, version: version, in: transaction)
        case Topic.projects, Topic.counterparties, Topic.employees:
            let id = try snapshot.requiredID(fallback: envelope.subject)
            let name = snapshot.string("name") ?? ""
            let function = switch message.topic {
            case Topic.projects: "ingest_project"
            case Topic.counterparties: "ingest_counterparty"
            default: "ingest_employee"
            }
            _ = try await transaction.query("""
                SELECT \(unescaped: function)(\(id), \(version), \(name), \(snapshot.deleted))
                """)
        case Topic.attributeSets:
            guard let kind = snapshot.string("kind") ?? Optional(envelope.subject), !kind.isEmpty else {
                throw PermanentFailure("attribute set without a kind")
            }
            guard let attributes = data["attributes"]?.arrayValue else { throw PermanentFailure("attribute set \(kind) without attributes") }
            for attribute in attributes {
                guard let object = attribute.objectValue, object["key"]?.stringValue != nil, object["type"]?.stringValue != nil else {
                    throw PermanentFailure("attribute set \(kind): an attribute without key or type")
                }
            }
            let json = try PostgresJSON(encoding: JSONValue.array(attributes))
            _ = try await transaction.query("SELECT ingest_attribute_set(\(kind), \(version), \(json)::jsonb)")
        case Topic.attributeValues:
            let key = message.keyString ?? envelope.subject
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            let kind = snapshot.string("kind") ?? (parts.count == 2 ? parts[0] : nil)
            let objectText = snapshot.string("objectId") ?? (parts.count == 2 ? parts[1] : nil)
            guard let kind, let objectText, let object = UUID(uuidString: objectText) else {
                throw PermanentFailure("attribute values without kind and object id (key \(key))")
            }
            let values = data["values"]?.objectValue ?? [:]
            let json = try PostgresJSON(encoding: JSONValue.object(values))
            _ = try await transaction.query("SELECT ingest_values(\(kind), \(object), \(version), \(json)::jsonb)")
        default:
            throw PermanentFailure("crm-reporting does not consume \(message.topic)")
        }
    }

    func finishBatch(in transaction: PostgresTransaction) async throws {
        try await publisher.publishDirty(in: transaction)
    }

    private func ingestEvent(_ snapshot: Snapshot, subject: String, version: Int64, in transaction: PostgresTransaction) async throws {
        let id = try snapshot.requiredID(fallback: subject)
        guard let state = snapshot.string("state"), Self.states.contains(state) else {
            throw PermanentFailure("event \(id): state must be one of \(Self.states.sorted())")
        }
        guard let channel = snapshot.string("channel"), Self.channels.contains(channel) else {
            throw PermanentFailure("event \(id): channel must be one of \(Self.channels.sorted())")
        }
        let startsAt = try snapshot.date("startsAt")
        let createdAt = try snapshot.date("createdAt")
        let updatedAt = try snapshot.date("updatedAt")
        let completedAt = try snapshot.date("completedAt")
        let sortAt = startsAt ?? createdAt
        let completedDay = state == "completed" ? (completedAt ?? updatedAt).map(Self.utcDay) : nil
        let project = try snapshot.uuid("projectId")
        let counterparty = try snapshot.uuid("counterpartyId")
        let responsible = try snapshot.uuid("responsibleId")
        _ = try await transaction.query("""
            SELECT ingest_event(ROW(\(id), \(version), \(project), \(counterparty),
                \(responsible), \(channel), \(state), \(snapshot.deleted),
                \(sortAt)::timestamptz, \(completedDay)::date)::event_facts)
            """)
    }

    private func ingestOrder(_ snapshot: Snapshot, subject: String, version: Int64, in transaction: PostgresTransaction) async throws {
        let kind: String
        if snapshot.type.hasPrefix("crm.customer-order.") {
            kind = "customer"
        } else if snapshot.type.hasPrefix("crm.supplier-order.") {
            kind = "supplier"
        } else {
            return  // Other documents on the topic do not count in any report.
        }
        let id = try snapshot.requiredID(fallback: subject)
        guard let state = snapshot.string("state"), Self.orderStates.contains(state) else {
            throw PermanentFailure("order \(id): state must be one of \(Self.orderStates.sorted())")
        }
        let currency = snapshot.string("currency")
        if let currency, currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
            throw PermanentFailure("order \(id): currency must be an ISO 4217 code")
        }
        var total: String?
        if let value = snapshot.data["total"], !value.isNull {
            switch value {
            case .string(let text) where text.wholeMatch(of: /-?[0-9]{1,20}(\.[0-9]{1,10})?/) != nil: total = text
            default: throw PermanentFailure("order \(id): total must be a decimal string")
            }
        }
        let counterparty = try snapshot.uuid("counterpartyId")
        let project = try snapshot.uuid("projectId")
        _ = try await transaction.query("""
            SELECT ingest_order(ROW(\(id), \(version), \(kind), \(state), \(counterparty),
                \(project), \(currency?.uppercased()), \(total)::numeric, \(snapshot.deleted))::order_facts)
            """)
    }

    private static func utcDay(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}

/// The members of one snapshot's `data`, read with contract checks.
struct Snapshot {
    let data: [String: JSONValue]
    let type: String

    var deleted: Bool { data["deleted"] == .bool(true) || type.hasSuffix(".deleted") }

    func string(_ key: String) -> String? { data[key]?.stringValue }

    func requiredID(fallback: String) throws -> UUID {
        guard let id = UUID(uuidString: string("id") ?? fallback) else { throw PermanentFailure("\(type) without an object id") }
        return id
    }

    /// An optional id member: absent or null is nil; anything but a UUID string is a contract violation.
    func uuid(_ key: String) throws -> UUID? {
        guard let value = data[key], !value.isNull else { return nil }
        guard let text = value.stringValue, let id = UUID(uuidString: text) else {
            throw PermanentFailure("\(type): \(key) is not an id")
        }
        return id
    }

    func date(_ key: String) throws -> Date? {
        guard let value = data[key], !value.isNull else { return nil }
        guard let text = value.stringValue, let date = RFC3339.date(from: text) else {
            throw PermanentFailure("\(type): \(key) is not an RFC 3339 time")
        }
        return date
    }
}

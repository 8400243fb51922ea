import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Applies every snapshot crm-reporting consumes to its facts and, in the same transaction, the
/// difference to the aggregates (the `ingest_*` functions of the migrations). A snapshot that is
/// not newer than the fact row changes nothing. At the end of each batch it publishes one report
/// snapshot per project and segment the batch changed.
///
/// Set-based as far as the aggregates allow: each run of snapshots of one kind goes to its
/// `ingest_*` function in one statement (the function runs per row, in batch order, inside the
/// server), so a batch costs a few round trips instead of one per message.
struct ReportingHandler: BatchMessageHandler {
    let publisher: ReportPublisher

    static let topics = [
        Topic.events, Topic.documents, Topic.projects, Topic.counterparties, Topic.employees,
        Topic.attributeSets, Topic.attributeValues,
    ]

    static let states: Set<String> = ["planned", "completed", "cancelled"]
    static let channels: Set<String> = ["phone-call", "email", "meeting", "message", "other"]
    static let orderStates: Set<String> = ["draft", "confirmed", "completed", "cancelled"]

    /// One checked snapshot: the `ingest_*` function it goes to and that function's arguments
    /// (scalars in PostgreSQL's text form, JSON members as JSON). Nil for a document type that
    /// counts in no report.
    struct Ingest: Sendable {
        enum Function: String, Sendable {
            case event, order, project, counterparty, employee, attributeSet, values

            /// One call per row of `$1` (a JSON array of argument objects), in array order.
            var statement: String {
                switch self {
                case .event: "SELECT ingest_event(f) FROM jsonb_populate_recordset(NULL::event_facts, $1::jsonb) AS f"
                case .order: "SELECT ingest_order(f) FROM jsonb_populate_recordset(NULL::order_facts, $1::jsonb) AS f"
                case .project, .counterparty, .employee: """
                    SELECT ingest_\(rawValue)(r.id, r.version, r.name, r.deleted)
                    FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, version bigint, name text, deleted boolean)
                    """
                case .attributeSet: """
                    SELECT ingest_attribute_set(r.kind, r.version, r.attributes)
                    FROM jsonb_to_recordset($1::jsonb) AS r(kind text, version bigint, attributes jsonb)
                    """
                case .values: """
                    SELECT ingest_values(r.kind, r.object, r.version, r.vals)
                    FROM jsonb_to_recordset($1::jsonb) AS r(kind text, object uuid, version bigint, vals jsonb)
                    """
                }
            }
        }

        var function: Function
        var arguments: [String: JSONValue]
    }

    func decode(_ message: KafkaMessage) throws -> Ingest? {
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
            return try eventFacts(snapshot, subject: envelope.subject, version: version)
        case Topic.documents:
            return try orderFacts(snapshot, subject: envelope.subject, version: version)
        case Topic.projects, Topic.counterparties, Topic.employees:
            let id = try snapshot.requiredID(fallback: envelope.subject)
            let function: Ingest.Function = switch message.topic {
            case Topic.projects: .project
            case Topic.counterparties: .counterparty
            default: .employee
            }
            return Ingest(function: function, arguments: Self.arguments([
                "id": id, "version": version, "name": snapshot.string("name") ?? "", "deleted": snapshot.deleted,
            ]))
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
            var arguments = Self.arguments(["kind": kind, "version": version])
            arguments["attributes"] = .array(attributes)
            return Ingest(function: .attributeSet, arguments: arguments)
        case Topic.attributeValues:
            let key = message.keyString ?? envelope.subject
            let parts = key.split(separator: ":", maxSplits: 1).map(String.init)
            let kind = snapshot.string("kind") ?? (parts.count == 2 ? parts[0] : nil)
            let objectText = snapshot.string("objectId") ?? (parts.count == 2 ? parts[1] : nil)
            guard let kind, let objectText, let object = UUID(uuidString: objectText) else {
                throw PermanentFailure("attribute values without kind and object id (key \(key))")
            }
            var arguments = Self.arguments(["kind": kind, "object": object, "version": version])
            arguments["vals"] = .object(data["values"]?.objectValue ?? [:])
            return Ingest(function: .values, arguments: arguments)
        default:
            throw PermanentFailure("crm-reporting does not consume \(message.topic)")
        }
    }

    func apply(_ batch: [Ingest?], in transaction: PostgresTransaction) async throws {
        // The aggregates are shared by every partition: a counterparty's segment move reads its
        // rollup, which an event of another partition may change at the same time. Batches of
        // all instances are therefore applied one at a time (held until the batch commits), so
        // no delta is lost and no two batches deadlock. Keyed by schema: reporting deployments
        // (or tests) in other schemas of the database are not held up.
        try await transaction.execute("SELECT pg_advisory_xact_lock(hashtext('crm.reporting.aggregates.' || current_schema()))")
        // Runs of one function keep the batch order between kinds (an event and the segment
        // move of its counterparty, say), as applying them one at a time would.
        for run in batch.compactMap({ $0 }).consecutiveRuns(by: \.function) {
            let rows = try PostgresJSON(encoding: JSONValue.array(run.elements.map { .object($0.arguments) }))
            try await transaction.query(PostgresQuery(sql: run.kind.statement, binds: [rows.text]))
        }
    }

    func finishBatch(in transaction: PostgresTransaction) async throws {
        try await publisher.publishDirty(in: transaction)
    }

    /// Scalars as JSON strings in PostgreSQL's text form, which the record functions read with
    /// each column's input function (exact for bigint versions, timestamps and numerics).
    private static func arguments(_ values: [String: (any PostgresEncodable)?]) -> [String: JSONValue] {
        values.mapValues { $0.map { .string($0.postgresText) } ?? .null }
    }

    private func eventFacts(_ snapshot: Snapshot, subject: String, version: Int64) throws -> Ingest {
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
        let completedDay = state == "completed" ? (completedAt ?? updatedAt).map(Self.utcDay) : nil
        return Ingest(function: .event, arguments: Self.arguments([
            "id": id, "version": version, "project_id": try snapshot.uuid("projectId"),
            "counterparty_id": try snapshot.uuid("counterpartyId"), "responsible_id": try snapshot.uuid("responsibleId"),
            "channel": channel, "state": state, "deleted": snapshot.deleted, "sort_at": startsAt ?? createdAt,
            "completed_day": completedDay,
        ]))
    }

    private func orderFacts(_ snapshot: Snapshot, subject: String, version: Int64) throws -> Ingest? {
        let kind: String
        if snapshot.type.hasPrefix("crm.customer-order.") {
            kind = "customer"
        } else if snapshot.type.hasPrefix("crm.supplier-order.") {
            kind = "supplier"
        } else {
            return nil  // Other documents on the topic do not count in any report.
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
        return Ingest(function: .order, arguments: Self.arguments([
            "id": id, "version": version, "kind": kind, "state": state, "counterparty_id": try snapshot.uuid("counterpartyId"),
            "project_id": try snapshot.uuid("projectId"), "currency": currency?.uppercased(), "total": total,
            "deleted": snapshot.deleted,
        ]))
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

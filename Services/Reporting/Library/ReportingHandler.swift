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
/// `ingest_*` function in one statement, so a batch costs a few round trips instead of one per
/// message. Events, the bulk of every stream, are applied as a set (`ingest_events`: one upsert
/// per aggregate for the whole run); the other kinds run per row, in batch order, in the server.
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

            /// One call per row of `$1` (a JSON array of argument objects), in array order; events
            /// in one call for the whole run (migration 0004).
            var statement: String {
                switch self {
                // Set-based: the run's events net out per event, then one upsert per aggregate.
                case .event: "SELECT ingest_events($1::jsonb)"
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
        // Each topic's typed payload (Contracts); what the schema cannot say is checked below.
        switch message.topic {
        case Topic.events:
            return try eventFacts(message.cloudEvent(of: EventSnapshot.self))
        case Topic.documents:
            // Only orders count in reports; other documents on the topic are skipped unread.
            let type = try message.cloudEvent(of: JSONValue.self).type
            guard type.hasPrefix("crm.customer-order.") || type.hasPrefix("crm.supplier-order.") else { return nil }
            return try orderFacts(message.cloudEvent(of: OrderSnapshot.self))
        case Topic.projects, Topic.counterparties, Topic.employees:
            let (id, deleted, version, name) = switch message.topic {
            case Topic.projects: try Self.named(message.catalogSnapshot(ProjectFields.self), \.name)
            case Topic.counterparties: try Self.named(message.catalogSnapshot(CounterpartyFields.self), \.name)
            default: try Self.named(message.catalogSnapshot(EmployeeFields.self), \.name)
            }
            let function: Ingest.Function = switch message.topic {
            case Topic.projects: .project
            case Topic.counterparties: .counterparty
            default: .employee
            }
            return Ingest(function: function, arguments: Self.arguments([
                "id": id, "version": version, "name": name, "deleted": deleted,
            ]))
        case Topic.attributeSets:
            let envelope = try message.cloudEvent(of: AttributeSet.self)
            var arguments = Self.arguments(["kind": envelope.data.kind.rawValue, "version": envelope.version])
            arguments["attributes"] = try JSONValue(encoding: envelope.data.attributes)
            return Ingest(function: .attributeSet, arguments: arguments)
        case Topic.attributeValues:
            let envelope = try message.cloudEvent(of: AttributeValues.self)
            var arguments = Self.arguments([
                "kind": envelope.data.kind.rawValue, "object": envelope.data.objectId, "version": envelope.version,
            ])
            arguments["vals"] = .object(envelope.data.values)
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
        // Sent with the batch's first statement, on the same trip to the connection.
        try transaction.executeLater("SELECT pg_advisory_xact_lock(hashtext('crm.reporting.aggregates.' || current_schema()))")
        // Runs of one function keep the batch order between kinds (an event and the segment
        // move of its counterparty, say), as applying them one at a time would.
        for run in batch.compactMap({ $0 }).consecutiveRuns(by: \.function) {
            let rows = try PostgresJSON(crmEncoding: JSONValue.array(run.elements.map { .object($0.arguments) }))
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

    private func eventFacts(_ envelope: CloudEvent<EventSnapshot>) throws -> Ingest {
        let event = envelope.data
        let (id, state, channel) = (event.id, event.state, event.channel)
        guard Self.states.contains(state) else {
            throw PermanentFailure("event \(id): state must be one of \(Self.states.sorted())")
        }
        guard Self.channels.contains(channel) else {
            throw PermanentFailure("event \(id): channel must be one of \(Self.channels.sorted())")
        }
        let deleted = event.deleted || envelope.type.hasSuffix(".deleted")
        let completedDay = state == "completed" ? Self.utcDay(event.completedAt ?? event.updatedAt) : nil
        return Ingest(function: .event, arguments: Self.arguments([
            "id": id, "version": envelope.version, "project_id": event.projectId,
            "counterparty_id": event.counterpartyId, "responsible_id": event.responsibleId,
            "channel": channel, "state": state, "deleted": deleted, "sort_at": event.startsAt ?? event.createdAt,
            "completed_day": completedDay,
        ]))
    }

    private func orderFacts(_ envelope: CloudEvent<OrderSnapshot>) throws -> Ingest {
        let order = envelope.data
        let kind = envelope.type.hasPrefix("crm.customer-order.") ? "customer" : "supplier"
        let (id, state, currency, total) = (order.id, order.state, order.currency, order.total)
        guard Self.orderStates.contains(state) else {
            throw PermanentFailure("order \(id): state must be one of \(Self.orderStates.sorted())")
        }
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw PermanentFailure("order \(id): currency must be an ISO 4217 code")
        }
        guard total.wholeMatch(of: /-?[0-9]{1,20}(\.[0-9]{1,10})?/) != nil else {
            throw PermanentFailure("order \(id): total must be a decimal string")
        }
        let deleted = order.deleted || envelope.type.hasSuffix(".deleted")
        return Ingest(function: .order, arguments: Self.arguments([
            "id": id, "version": envelope.version, "kind": kind, "state": state, "counterparty_id": order.counterpartyId,
            "project_id": order.projectId, "currency": currency.uppercased(), "total": total, "deleted": deleted,
        ]))
    }

    private static func named<Fields>(
        _ snapshot: (id: UUID, deleted: Bool, version: Int64, fields: Fields), _ name: KeyPath<Fields, String?>
    ) -> (UUID, Bool, Int64, String) {
        (snapshot.id, snapshot.deleted, snapshot.version, snapshot.fields[keyPath: name] ?? "")
    }

    private static func utcDay(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }
}

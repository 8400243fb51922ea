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
        // Each topic's typed payload (Contracts); what the schema cannot say is checked below.
        switch message.topic {
        case Topic.events:
            try await ingestEvent(message.cloudEvent(of: EventSnapshot.self), in: transaction)
        case Topic.documents:
            // Only orders count in reports; other documents on the topic are skipped unread.
            let type = try message.cloudEvent(of: JSONValue.self).type
            guard type.hasPrefix("crm.customer-order.") || type.hasPrefix("crm.supplier-order.") else { return }
            try await ingestOrder(message.cloudEvent(of: OrderSnapshot.self), in: transaction)
        case Topic.projects, Topic.counterparties, Topic.employees:
            let (id, deleted, version, name) = switch message.topic {
            case Topic.projects: try Self.named(message.catalogSnapshot(ProjectFields.self), \.name)
            case Topic.counterparties: try Self.named(message.catalogSnapshot(CounterpartyFields.self), \.name)
            default: try Self.named(message.catalogSnapshot(EmployeeFields.self), \.name)
            }
            let function = switch message.topic {
            case Topic.projects: "ingest_project"
            case Topic.counterparties: "ingest_counterparty"
            default: "ingest_employee"
            }
            _ = try await transaction.query("""
                SELECT \(unescaped: function)(\(id), \(version), \(name), \(deleted))
                """)
        case Topic.attributeSets:
            let envelope = try message.cloudEvent(of: AttributeSet.self)
            let json = try PostgresJSON(encoding: envelope.data.attributes, encoder: CRMJSON.makeEncoder())
            _ = try await transaction.query(
                "SELECT ingest_attribute_set(\(envelope.data.kind.rawValue), \(envelope.version), \(json)::jsonb)")
        case Topic.attributeValues:
            let envelope = try message.cloudEvent(of: AttributeValues.self)
            let json = try PostgresJSON(encoding: envelope.data.values)
            _ = try await transaction.query("""
                SELECT ingest_values(\(envelope.data.kind.rawValue), \(envelope.data.objectId), \(envelope.version), \(json)::jsonb)
                """)
        default:
            throw PermanentFailure("crm-reporting does not consume \(message.topic)")
        }
    }

    func finishBatch(in transaction: PostgresTransaction) async throws {
        try await publisher.publishDirty(in: transaction)
    }

    private func ingestEvent(_ envelope: CloudEvent<EventSnapshot>, in transaction: PostgresTransaction) async throws {
        let event = envelope.data
        let (id, state, channel) = (event.id, event.state, event.channel)
        guard Self.states.contains(state) else {
            throw PermanentFailure("event \(id): state must be one of \(Self.states.sorted())")
        }
        guard Self.channels.contains(channel) else {
            throw PermanentFailure("event \(id): channel must be one of \(Self.channels.sorted())")
        }
        let deleted = event.deleted || envelope.type.hasSuffix(".deleted")
        let sortAt = event.startsAt ?? event.createdAt
        let completedDay = state == "completed" ? Self.utcDay(event.completedAt ?? event.updatedAt) : nil
        _ = try await transaction.query("""
            SELECT ingest_event(ROW(\(id), \(envelope.version), \(event.projectId), \(event.counterpartyId),
                \(event.responsibleId), \(channel), \(state), \(deleted),
                \(sortAt)::timestamptz, \(completedDay)::date)::event_facts)
            """)
    }

    private func ingestOrder(_ envelope: CloudEvent<OrderSnapshot>, in transaction: PostgresTransaction) async throws {
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
        _ = try await transaction.query("""
            SELECT ingest_order(ROW(\(id), \(envelope.version), \(kind), \(state), \(order.counterpartyId),
                \(order.projectId), \(currency.uppercased()), \(total)::numeric, \(deleted))::order_facts)
            """)
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

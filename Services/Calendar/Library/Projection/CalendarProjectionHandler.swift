import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Builds the calendars: events become, move, change and leave entries; employees (name, time
/// zone, active) and counterparty names are kept for display. The newest `version` wins, so
/// replays and reordering change nothing. Every entry change is published on
/// `crm.calendar.v1` and reschedules or drops its reminder — in the batch's transaction.
struct CalendarProjectionHandler: MessageHandler {
    let outbox: Outbox
    let reminderLead: TimeInterval
    let now: @Sendable () -> Date

    static let topics = [Topic.events, Topic.employees, Topic.counterparties]

    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        switch message.topic {
        case Topic.events:
            try await apply(event: message.cloudEvent(of: EventSnapshot.self), in: transaction)
        case Topic.employees:
            try await apply(employee: message.catalogSnapshot(EmployeeFields.self), in: transaction)
        case Topic.counterparties:
            try await apply(counterparty: message.catalogSnapshot(CounterpartyFields.self), in: transaction)
        default:
            throw PermanentFailure("crm-calendar does not project \(message.topic)")
        }
    }

    // MARK: - Events → entries

    private func apply(event envelope: CloudEvent<EventSnapshot>, in transaction: PostgresTransaction) async throws {
        let event = envelope.data
        let id = event.id
        let version = Int(envelope.version)
        let deleted = event.deleted || envelope.type.hasSuffix(".deleted")
        var isEntry = false
        if !deleted, let startsAt = event.startsAt, let endsAt = event.endsAt, event.responsibleId != nil {
            guard endsAt >= startsAt else {
                throw PermanentFailure("event \(id.uuidString.lowercased()) ends before it starts")
            }
            isEntry = true
        }

        // Lock, then check, then write: the stored row decides whether this snapshot is news.
        let previous = try await transaction.query("""
            SELECT active, employee_id, version FROM entries WHERE event_id = \(id) FOR UPDATE
            """).first
        if let previous, try previous.decode("version", as: Int.self) >= version { return }
        let wasActive = try previous?.decode("active", as: Bool.self) ?? false
        let previousEmployee = try previous?.decodeIfPresent("employee_id", as: UUID.self)

        let applied = try await VersionedUpsert.apply(
            table: "entries", key: ["event_id"],
            columns: [
                ("event_id", id), ("active", isEntry), ("employee_id", event.responsibleId),
                ("number", event.number), ("subject", event.subject), ("channel", event.channel),
                ("direction", event.direction), ("state", event.state), ("content", event.content),
                ("counterparty_id", event.counterpartyId), ("contact_id", event.contactId),
                ("starts_at", event.startsAt), ("ends_at", event.endsAt), ("event_updated_at", event.updatedAt),
                ("version", version),
            ],
            in: transaction)
        guard applied else { return }

        if isEntry || wasActive {
            let counterpartyName = try await self.counterpartyName(event.counterpartyId, in: transaction)
            let snapshot = EntrySnapshot(
                eventId: id, employeeId: isEntry ? event.responsibleId : previousEmployee, number: event.number,
                subject: event.subject, channel: event.channel, direction: event.direction, state: event.state,
                startsAt: event.startsAt, endsAt: event.endsAt, counterpartyId: event.counterpartyId,
                counterpartyName: counterpartyName, contactId: event.contactId, removed: !isEntry, version: version)
            let key = id.uuidString.lowercased()
            let message = CloudEvent(
                source: CalendarService.name, type: snapshot.eventType, subject: key, version: Int64(version), data: snapshot)
            try await outbox.enqueue(message, topic: Topic.calendar, key: key, in: transaction)
        }

        try await reschedule(
            id, employee: isEntry ? event.responsibleId : nil, startsAt: isEntry && event.state == "planned" ? event.startsAt : nil,
            in: transaction)
    }

    /// One reminder per event and start time: a planned entry that has not started gets one due
    /// `reminderLead` before its start; a move replaces a still scheduled one; anything else
    /// (completed, cancelled, deleted, no longer an entry) drops it. Sent and missed reminders
    /// stay as they are, so the same start time never fires twice.
    private func reschedule(_ eventId: UUID, employee: UUID?, startsAt: Date?, in transaction: PostgresTransaction) async throws {
        guard let employee, let startsAt else {
            try await transaction.execute("DELETE FROM reminders WHERE event_id = \(eventId) AND status = 'scheduled'")
            return
        }
        // A planned entry that already started (the service was down when it fell due, or it
        // arrived late): recorded as missed, never sent.
        guard startsAt > now() else {
            try await transaction.execute("""
                UPDATE reminders SET status = 'missed', settled_at = \(now())
                WHERE event_id = \(eventId) AND status = 'scheduled' AND starts_at = \(startsAt)
                """)
            try await transaction.execute("DELETE FROM reminders WHERE event_id = \(eventId) AND status = 'scheduled'")
            return
        }
        // One round trip: drop a still scheduled reminder of another start, (re)schedule this one.
        try await transaction.execute("""
            WITH moved AS (
                DELETE FROM reminders WHERE event_id = \(eventId) AND status = 'scheduled' AND starts_at <> \(startsAt)
            )
            INSERT INTO reminders (event_id, starts_at, employee_id, due_at, status)
            VALUES (\(eventId), \(startsAt), \(employee), \(startsAt.addingTimeInterval(-reminderLead)), 'scheduled')
            ON CONFLICT (event_id, starts_at) DO UPDATE SET employee_id = EXCLUDED.employee_id, due_at = EXCLUDED.due_at
            WHERE reminders.status = 'scheduled'
            """)
    }

    private func counterpartyName(_ id: UUID?, in transaction: PostgresTransaction) async throws -> String? {
        guard let id else { return nil }
        return try await transaction.query("SELECT name FROM counterparties WHERE id = \(id)").first?.decode("name")
    }

    // MARK: - Employees and counterparties

    private func apply(
        employee snapshot: (id: UUID, deleted: Bool, version: Int64, fields: EmployeeFields), in transaction: PostgresTransaction
    ) async throws {
        try await VersionedUpsert.apply(
            table: "employees", key: ["id"],
            columns: [("id", snapshot.id), ("name", snapshot.fields.name ?? ""), ("time_zone", validTimeZone(snapshot.fields.timeZone)),
                      ("active", snapshot.fields.active != false), ("deleted", snapshot.deleted), ("version", snapshot.version)],
            in: transaction)
    }

    private func apply(
        counterparty snapshot: (id: UUID, deleted: Bool, version: Int64, fields: CounterpartyFields), in transaction: PostgresTransaction
    ) async throws {
        let (id, name) = (snapshot.id, snapshot.fields.name ?? "")
        let previous = try await transaction.query("SELECT name FROM counterparties WHERE id = \(id) FOR UPDATE")
            .first?.decode("name", as: String.self)
        let applied = try await VersionedUpsert.apply(
            table: "counterparties", key: ["id"],
            columns: [("id", id), ("name", name), ("deleted", snapshot.deleted), ("version", snapshot.version)], in: transaction)
        // Entries show the name: a rename goes out on crm.calendar.v1 for each of them.
        if applied, let previous, previous != name {
            try await EntryRepublisher.republish(entriesOf: id, outbox: outbox, in: transaction)
        }
    }
}

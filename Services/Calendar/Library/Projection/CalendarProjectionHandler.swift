import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Builds the calendars: events become, move, change and leave entries; employees (name, time
/// zone, active) and counterparty names are kept for display. The newest `version` wins, so
/// replays and reordering change nothing. Every entry change is published on
/// `crm.calendar.v1` and reschedules or drops its reminder — in the batch's transaction.
struct CalendarProjectionHandler: BatchMessageHandler {
    let outbox: Outbox
    let reminderLead: TimeInterval
    let now: @Sendable () -> Date

    static let topics = [Topic.events, Topic.employees, Topic.counterparties]

    /// One snapshot, read and checked.
    enum Change: Sendable {
        case event(EventChange)
        case employee(VersionedUpsert.Columns)
        case counterparty(id: UUID, name: String, columns: VersionedUpsert.Columns)

        /// Runs of one kind are applied together; the runs in batch order.
        var kind: Int {
            switch self {
            case .event: 0
            case .employee: 1
            case .counterparty: 2
            }
        }
    }

    /// An event snapshot and whether it makes a calendar entry.
    struct EventChange: Sendable {
        var id: UUID
        var version: Int
        var type: String
        var event: EventSnapshot
        var isEntry: Bool
    }

    func decode(_ message: KafkaMessage) throws -> Change {
        switch message.topic {
        case Topic.events:
            return .event(try eventChange(message.cloudEvent(of: EventSnapshot.self)))
        case Topic.employees:
            let snapshot = try message.catalogSnapshot(EmployeeFields.self)
            return .employee([
                ("id", snapshot.id), ("name", snapshot.fields.name ?? ""), ("time_zone", validTimeZone(snapshot.fields.timeZone)),
                ("active", snapshot.fields.active != false), ("deleted", snapshot.deleted), ("version", snapshot.version),
            ])
        case Topic.counterparties:
            let snapshot = try message.catalogSnapshot(CounterpartyFields.self)
            let (id, name) = (snapshot.id, snapshot.fields.name ?? "")
            return .counterparty(
                id: id, name: name, columns: [("id", id), ("name", name), ("deleted", snapshot.deleted), ("version", snapshot.version)])
        default:
            throw PermanentFailure("crm-calendar does not project \(message.topic)")
        }
    }

    func apply(_ batch: [Change], in transaction: PostgresTransaction) async throws {
        for run in batch.consecutiveRuns(by: \.kind) {
            var events: [EventChange] = []
            var employees: [VersionedUpsert.Columns] = []
            var counterparties: [(id: UUID, name: String, columns: VersionedUpsert.Columns)] = []
            for change in run.elements {
                switch change {
                case .event(let event): events.append(event)
                case .employee(let columns): employees.append(columns)
                case .counterparty(let id, let name, let columns): counterparties.append((id, name, columns))
                }
            }
            if !events.isEmpty { try await apply(events: events, in: transaction) }
            if !employees.isEmpty { try VersionedUpsert.applyLater(table: "employees", key: ["id"], rows: employees, in: transaction) }
            if !counterparties.isEmpty { try await apply(counterparties: counterparties, in: transaction) }
        }
    }

    // MARK: - Events → entries

    private func eventChange(_ envelope: CloudEvent<EventSnapshot>) throws -> EventChange {
        let event = envelope.data
        let id = event.id
        let deleted = event.deleted || envelope.type.hasSuffix(".deleted")
        var isEntry = false
        if !deleted, let startsAt = event.startsAt, let endsAt = event.endsAt, event.responsibleId != nil {
            guard endsAt >= startsAt else {
                throw PermanentFailure("event \(id.lowercasedText) ends before it starts")
            }
            isEntry = true
        }
        return EventChange(id: id, version: Int(envelope.version), type: envelope.type, event: event, isEntry: isEntry)
    }

    /// Lock, then check, then write: the stored rows decide which snapshots are news. One
    /// lookup for the stored rows (locked) and the counterparty names, one upsert, one outbox
    /// insert and the reminder statements, for the whole run.
    private func apply(events changes: [EventChange], in transaction: PostgresTransaction) async throws {
        let (stored, names, reminded) = try await lookUp(changes, in: transaction)
        let news = changes.filter { change in stored[change.id].map { $0.version < change.version } ?? true }
        let written = try await VersionedUpsert.apply(
            table: "entries", key: ["event_id"], rows: news.map(Self.entryColumns), in: transaction
        ).map { news[$0] }

        let shown = written.filter { $0.isEntry || stored[$0.id]?.active == true }
        let messages = try shown.map { change in
            let event = change.event
            let snapshot = EntrySnapshot(
                eventId: change.id, employeeId: change.isEntry ? event.responsibleId : stored[change.id]?.employee,
                number: event.number, subject: event.subject, channel: event.channel, direction: event.direction,
                state: event.state, startsAt: event.startsAt, endsAt: event.endsAt, counterpartyId: event.counterpartyId,
                counterpartyName: event.counterpartyId.flatMap { names[$0] }, contactId: event.contactId,
                removed: !change.isEntry, version: change.version)
            let key = change.id.lowercasedText
            let message = CloudEvent(
                source: CalendarService.name, type: snapshot.eventType,
                subject: key, version: Int64(change.version), data: snapshot)
            return try OutboxMessage(message, topic: Topic.calendar, key: key)
        }
        try await outbox.enqueue(messages, in: transaction)
        try await reschedule(written, reminded: reminded, in: transaction)
    }

    private static func entryColumns(_ change: EventChange) -> VersionedUpsert.Columns {
        let event = change.event
        return [
            ("event_id", change.id), ("active", change.isEntry), ("employee_id", event.responsibleId),
            ("number", event.number), ("subject", event.subject), ("channel", event.channel),
            ("direction", event.direction), ("state", event.state), ("content", event.content),
            ("counterparty_id", event.counterpartyId), ("contact_id", event.contactId),
            ("starts_at", event.startsAt), ("ends_at", event.endsAt), ("event_updated_at", event.updatedAt),
            ("version", change.version),
        ]
    }

    /// One reminder per event and start time: a planned entry that has not started gets one due
    /// `reminderLead` before its start; a move replaces a still scheduled one; anything else
    /// (completed, cancelled, deleted, no longer an entry) drops it. Sent and missed reminders
    /// stay as they are, so the same start time never fires twice. `reminded`: the events with a
    /// scheduled reminder; the others have nothing to mark or drop.
    private func reschedule(_ changes: [EventChange], reminded: Set<UUID>, in transaction: PostgresTransaction) async throws {
        let now = now()
        var dropped: [UUID] = []
        var started: [(id: UUID, startsAt: Date)] = []
        var upcoming: [(id: UUID, employee: UUID, startsAt: Date)] = []
        for change in changes {
            guard change.isEntry, change.event.state == "planned", let employee = change.event.responsibleId,
                  let startsAt = change.event.startsAt else {
                if reminded.contains(change.id) { dropped.append(change.id) }
                continue
            }
            if startsAt > now {
                upcoming.append((change.id, employee, startsAt))
            } else if reminded.contains(change.id) {
                started.append((change.id, startsAt))
            }
        }
        // A planned entry that already started (the service was down when it fell due, or it
        // arrived late): recorded as missed, never sent.
        if !started.isEmpty {
            try await transaction.execute("""
                UPDATE reminders r SET status = 'missed', settled_at = \(now)
                FROM unnest(\(started.map(\.id))::uuid[], \(started.map(\.startsAt))::timestamptz[]) AS s(event_id, starts_at)
                WHERE r.event_id = s.event_id AND r.status = 'scheduled' AND r.starts_at = s.starts_at
                """)
        }
        let cleared = dropped + started.map(\.id)
        if !cleared.isEmpty {
            try await transaction.execute("DELETE FROM reminders WHERE event_id = ANY(\(cleared)::uuid[]) AND status = 'scheduled'")
        }
        guard !upcoming.isEmpty else { return }
        // Drop still scheduled reminders of another start, then (re)schedule these.
        let moved = upcoming.filter { reminded.contains($0.id) }
        if !moved.isEmpty {
            try await transaction.execute("""
                DELETE FROM reminders r
                USING unnest(\(moved.map(\.id))::uuid[], \(moved.map(\.startsAt))::timestamptz[]) AS u(event_id, starts_at)
                WHERE r.event_id = u.event_id AND r.status = 'scheduled' AND r.starts_at <> u.starts_at
                """)
        }
        let rows = upcoming.map { reminder -> [(any PostgresEncodable)?] in
            [reminder.id, reminder.startsAt, reminder.employee, reminder.startsAt.addingTimeInterval(-reminderLead), "scheduled"]
        }
        for chunk in PostgresQuery.statementChunks(rows, width: 5) {
            try await transaction.execute(.withValues(
                "INSERT INTO reminders (event_id, starts_at, employee_id, due_at, status) VALUES", Array(chunk), """
                ON CONFLICT (event_id, starts_at) DO UPDATE SET employee_id = EXCLUDED.employee_id, due_at = EXCLUDED.due_at
                WHERE reminders.status = 'scheduled'
                """))
        }
    }

    typealias StoredEntry = (active: Bool, employee: UUID?, version: Int)

    /// The run's stored entries, locked, the names of its counterparties and which of its events
    /// have a scheduled reminder: one round trip (`entry_lookup`, migration 0002).
    private func lookUp(
        _ changes: [EventChange], in transaction: PostgresTransaction
    ) async throws -> (stored: [UUID: StoredEntry], names: [UUID: String], reminded: Set<UUID>) {
        let query: PostgresQuery = """
            SELECT found, found_id, active, employee_id, version, name FROM entry_lookup(
                \(Array(Set(changes.map(\.id))))::uuid[], \(Array(Set(changes.compactMap(\.event.counterpartyId))))::uuid[])
            """
        var stored: [UUID: StoredEntry] = [:]
        var names: [UUID: String] = [:]
        var reminded: Set<UUID> = []
        for row in try await transaction.query(query.preparedOnce()) {
            let id = try row.decode("found_id", as: UUID.self)
            switch try row.decode("found", as: String.self) {
            case "entry": stored[id] = (try row.decode("active"), try row.decodeIfPresent("employee_id"), try row.decode("version"))
            case "counterparty": names[id] = try row.decode("name")
            default: reminded.insert(id)
            }
        }
        return (stored, names, reminded)
    }

    // MARK: - Employees and counterparties

    /// Entries show the name: a rename goes out on crm.calendar.v1 for each of them.
    private func apply(counterparties: [(id: UUID, name: String, columns: VersionedUpsert.Columns)], in transaction: PostgresTransaction) async throws {
        let previous = try await transaction.query("""
            SELECT id, name FROM counterparties WHERE id = ANY(\(Array(Set(counterparties.map(\.id))))::uuid[]) FOR UPDATE
            """)
        var names: [UUID: String] = [:]
        for row in previous { names[try row.decode("id")] = try row.decode("name") }
        let written = try await VersionedUpsert.apply(
            table: "counterparties", key: ["id"], rows: counterparties.map(\.columns), in: transaction)
        for counterparty in written.map({ counterparties[$0] }) {
            if let old = names[counterparty.id], old != counterparty.name {
                try await EntryRepublisher.republish(entriesOf: counterparty.id, outbox: outbox, in: transaction)
            }
        }
    }
}

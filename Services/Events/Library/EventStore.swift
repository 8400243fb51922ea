import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// Event documents: stored, changed through the state machine, published on `crm.events.v1`
/// in the same transaction.
struct EventStore: Sendable {
    let outbox: Outbox

    enum Transition: String, Sendable {
        case complete, cancel, reopen

        /// planned → completed, planned → cancelled, completed/cancelled → planned.
        func allowed(from state: String) -> Bool {
            switch self {
            case .complete, .cancel: state == EventState.planned.rawValue
            case .reopen: state == EventState.completed.rawValue || state == EventState.cancelled.rawValue
            }
        }

        var eventType: String {
            switch self {
            case .complete: "crm.event.completed"
            case .cancel: "crm.event.cancelled"
            case .reopen: "crm.event.reopened"
            }
        }
    }

    /// Where an event came from and what a telephony event carries besides the draft.
    struct Origin: Sendable {
        var authorId: String?
        var source = "api"
        var call: CallDetails?
        var unmatched = false
        /// Whole milliseconds, as the API prints times: the event `insert` returns (not read back)
        /// then shows the same instant as the stored row.
        var at = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// An event to create. Its id is chosen up front, so a call-back can name the missed call
    /// as its basis in the same multi-row insert.
    struct NewEvent: Sendable {
        var id = UUID()
        var draft: EventDraft
        var origin: Origin
    }

    func insert(_ draft: EventDraft, origin: Origin, in transaction: PostgresTransaction) async throws -> Event {
        try await insert([NewEvent(draft: draft, origin: origin)], in: transaction)[0]
    }

    /// Creates events in this order with one query for their numbers, one multi-row insert
    /// (per statement-sized chunk) and one outbox insert; returns them as they are stored. The
    /// inserts go out with the transaction's next statement or its commit, which throws if
    /// they fail.
    func insert(_ events: [NewEvent], in transaction: PostgresTransaction) async throws -> [Event] {
        guard !events.isEmpty else { return [] }
        // Numbers in bulk; sorted, so events created together are numbered in their order.
        let numbers = try await transaction.query("""
            SELECT nextval('event_numbers') AS n FROM generate_series(1, \(events.count))
            """).map { try $0.decode("n", as: Int.self) }.sorted()
        // Built here rather than read back with RETURNING: every column is known before the
        // insert, and reading a telephony batch back (its call details as JSON) cost as much as
        // writing it.
        let created = zip(events, numbers).map { Self.snapshot(of: $0, number: $1) }
        let rows = try created.map(Self.row(for:))
        // Nothing reads the inserts' results: they go out with the outbox rows and the next
        // statement or the commit, on one trip to the connection.
        for chunk in PostgresQuery.statementChunks(rows, width: rows[0].count) {
            try transaction.executeLater(.withValues("""
                INSERT INTO events (id, number, channel, direction, state, subject, content, counterparty_id, contact_id, deal_id,
                    project_id, responsible_id, starts_at, ends_at, basis_kind, basis_id, author_id, source, call, call_id, unmatched,
                    cancel_reason, completed_at, cancelled_at, version, created_at, updated_at)
                VALUES
                """, Array(chunk)))
        }
        try await publish(created.map { ($0, "crm.event.created") }, in: transaction)
        return created
    }

    /// A new event as it will be stored: version 1, created and updated at the origin's time.
    private static func snapshot(of event: NewEvent, number sequence: Int) -> Event {
        let (draft, origin) = (event.draft, event.origin)
        let closedAt = origin.call?.endedAt ?? origin.at
        let cancelled = draft.state == EventState.cancelled.rawValue
        return Event(
            id: event.id, number: "EV-" + String(repeating: "0", count: max(0, 6 - String(sequence).count)) + String(sequence),
            channel: draft.channel, direction: draft.direction, state: draft.state, subject: draft.subject,
            content: draft.content, counterpartyId: draft.counterpartyId, contactId: draft.contactId, dealId: draft.dealId,
            projectId: draft.projectId, responsibleId: draft.responsibleId, startsAt: draft.startsAt, endsAt: draft.endsAt,
            basis: draft.basis, authorId: origin.authorId, createdAt: origin.at, updatedAt: origin.at,
            completedAt: draft.state == EventState.completed.rawValue ? closedAt : nil, cancelledAt: cancelled ? closedAt : nil,
            cancelReason: cancelled ? draft.cancelReason : nil, source: origin.source, call: origin.call,
            unmatched: origin.unmatched, deleted: false, version: 1)
    }

    /// The column values of a new event, in the order of the insert's column list.
    private static func row(for event: Event) throws -> [(any PostgresEncodable)?] {
        let call = try event.call.map { try PostgresJSON(crmEncoding: $0) }
        return [
            event.id, event.number, event.channel, event.direction, event.state, event.subject, event.content,
            event.counterpartyId, event.contactId, event.dealId, event.projectId, event.responsibleId,
            event.startsAt, event.endsAt, event.basis?.kind, event.basis?.id, event.authorId, event.source,
            call, event.call?.callId, event.unmatched, event.cancelReason, event.completedAt, event.cancelledAt,
            event.version, event.createdAt, event.updatedAt,
        ]
    }

    func get(_ id: UUID, in transaction: PostgresTransaction, lock: Bool = false) async throws -> Event {
        guard let event = try await find(id, in: transaction, lock: lock) else {
            throw Problem.notFound("No event with id \(id.lowercasedText).")
        }
        return event
    }

    func find(_ id: UUID, in transaction: PostgresTransaction, lock: Bool = false) async throws -> Event? {
        let rows = try await transaction.query("""
            SELECT \(unescaped: Event.columns) FROM events WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """)
        return try rows.first.map(Event.init(row:))
    }

    func update(_ id: UUID, with body: [String: JSONValue], ifMatch: IfMatch?, by principal: Principal, in transaction: PostgresTransaction) async throws -> Event {
        let current = try await modifiable(id, ifMatch: ifMatch, by: principal, in: transaction)
        var draft = EventDraft(current)
        var errors: [FieldError] = []
        draft.apply(body, allowState: false, errors: &errors)
        try await draft.validate(errors: &errors, in: transaction)
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        try await transaction.execute("""
            UPDATE events SET channel = \(draft.channel), direction = \(draft.direction), subject = \(draft.subject),
                content = \(draft.content), counterparty_id = \(draft.counterpartyId), contact_id = \(draft.contactId),
                deal_id = \(draft.dealId), project_id = \(draft.projectId), responsible_id = \(draft.responsibleId),
                starts_at = \(draft.startsAt), ends_at = \(draft.endsAt), basis_kind = \(draft.basis?.kind), basis_id = \(draft.basis?.id),
                unmatched = unmatched AND \(draft.counterpartyId == nil),
                version = version + 1, updated_at = now()
            WHERE id = \(id)
            """)
        let event = try await get(id, in: transaction)
        try await publish(event, type: "crm.event.updated", in: transaction)
        return event
    }

    func transition(
        _ id: UUID, _ transition: Transition, reason: String?, ifMatch: IfMatch?, by principal: Principal,
        in transaction: PostgresTransaction
    ) async throws -> Event {
        let current = try await modifiable(id, ifMatch: ifMatch, by: principal, in: transaction)
        guard transition.allowed(from: current.state) else {
            throw Problem.conflict("Cannot \(transition.rawValue) an event that is \(current.state).")
        }
        switch transition {
        case .complete:
            try await transaction.execute("""
                UPDATE events SET state = 'completed', completed_at = now(), version = version + 1, updated_at = now() WHERE id = \(id)
                """)
        case .cancel:
            try await transaction.execute("""
                UPDATE events SET state = 'cancelled', cancelled_at = now(), cancel_reason = \(reason),
                    version = version + 1, updated_at = now() WHERE id = \(id)
                """)
        case .reopen:
            try await transaction.execute("""
                UPDATE events SET state = 'planned', completed_at = NULL, cancelled_at = NULL, cancel_reason = NULL,
                    version = version + 1, updated_at = now() WHERE id = \(id)
                """)
        }
        let event = try await get(id, in: transaction)
        try await publish(event, type: transition.eventType, in: transaction)
        return event
    }

    /// Marks the event deleted; it stays readable by id and leaves the lists.
    func delete(_ id: UUID, ifMatch: IfMatch?, by principal: Principal, in transaction: PostgresTransaction) async throws -> Event {
        let current = try await modifiable(id, ifMatch: ifMatch, by: principal, in: transaction)
        if current.deleted { return current }
        try await transaction.execute("UPDATE events SET deleted = true, version = version + 1, updated_at = now() WHERE id = \(id)")
        let event = try await get(id, in: transaction)
        try await publish(event, type: "crm.event.deleted", in: transaction)
        return event
    }

    /// Managers (and integrations) change only events they author or are responsible for; admins any.
    static func mayModify(_ event: Event, _ principal: Principal) -> Bool {
        if principal.isAdmin { return true }
        guard principal.has(.manager) || principal.has(.integration) else { return false }
        return event.authorId == principal.subject || event.responsibleId?.lowercasedText == principal.subject.lowercased()
    }

    /// Lock, then check (`LockedWrite`): the row is locked before its version and author are
    /// compared, so concurrent writers with one `If-Match` cannot both pass.
    private func modifiable(_ id: UUID, ifMatch: IfMatch?, by principal: Principal, in transaction: PostgresTransaction) async throws -> Event {
        try await LockedWrite.lock(
            "event", id: id, ifMatch: ifMatch, version: \.version,
            load: { try await find(id, in: transaction, lock: true) },
            authorize: { event in
                guard Self.mayModify(event, principal) else {
                    throw Problem.forbidden("Only the author, the responsible employee or an admin may change this event.")
                }
            })
    }

    func publish(_ event: Event, type: String, in transaction: PostgresTransaction) async throws {
        try await publish([(event, type)], in: transaction)
    }

    /// Publishes events on `crm.events.v1` with one outbox insert.
    func publish(_ events: [(event: Event, type: String)], in transaction: PostgresTransaction) async throws {
        let messages = try events.map { event, type in
            let key = event.id.lowercasedText
            let envelope = CloudEvent(source: EventsService.name, type: type, subject: key, version: Int64(event.version), data: event)
            return try OutboxMessage(envelope, topic: Topic.events, key: key)
        }
        try await outbox.enqueue(messages, in: transaction)
    }
}

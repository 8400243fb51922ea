import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Turns call records from `crm.telephony.calls.v1` into events: answered calls into completed
/// phone-call events; missed or busy incoming calls into a cancelled "missed" event plus a
/// planned call-back based on it, due within the call-back SLA. A `callId` seen before changes
/// nothing; an invalid message goes to the dead-letter topic.
///
/// Set-based: a whole poll batch costs one query for the `callId`s already seen, one to match
/// every number, one for the extensions, then `EventStore`'s bulk insert (numbers, events and
/// call-backs, outbox, one NOTIFY), however many calls it holds.
struct TelephonyHandler: BatchMessageHandler {
    let store: EventStore
    let defaultCountryCode: String
    let callbackSLA: TimeInterval
    let fallbackEmployee: UUID?

    typealias Match = (counterparty: UUID, contact: UUID?)

    func decode(_ message: KafkaMessage) throws -> TelephonyCall {
        do {
            return try TelephonyCall.decode(from: message.value ?? [])
        } catch {
            throw PermanentFailure("invalid call record: \(error)")
        }
    }

    func apply(_ batch: [TelephonyCall], in transaction: PostgresTransaction) async throws {
        let calls = try await unseen(batch, in: transaction)
        guard !calls.isEmpty else { return }
        let numbers = calls.map(externalNumber)
        let matches = try await match(Set(numbers), in: transaction)
        let extensions = try await employees(withExtensions: Set(calls.compactMap { $0.extension }), in: transaction)
        var events: [EventStore.NewEvent] = []
        for (call, number) in zip(calls, numbers) {
            events += newEvents(for: call, number: number, match: matches[number], responsible: call.extension.flatMap { extensions[$0] })
        }
        _ = try await store.insert(events, in: transaction)
    }

    /// The calls whose `callId` is new: neither stored nor earlier in the batch (the first of a
    /// repeated `callId` wins, as it would one message at a time).
    private func unseen(_ batch: [TelephonyCall], in transaction: PostgresTransaction) async throws -> [TelephonyCall] {
        var firstOfBatch = Set<String>()
        let distinct = batch.filter { firstOfBatch.insert($0.callId).inserted }
        let stored = try await transaction.query("""
            SELECT call_id FROM events WHERE call_id = ANY(\(distinct.map(\.callId))::text[])
            """)
        let seen = Set(try stored.map { try $0.decode("call_id", as: String.self) })
        return distinct.filter { !seen.contains($0.callId) }
    }

    /// The other party's number, normalised to E.164 where it can be.
    private func externalNumber(_ call: TelephonyCall) -> String {
        let external = call.direction == .inbound ? call.from : call.to
        return PhoneNumber.normalize(external, defaultCountryCode: defaultCountryCode) ?? external
    }

    /// The event (and for a missed incoming call, the call-back) one call becomes.
    private func newEvents(for call: TelephonyCall, number: String, match: Match?, responsible: UUID?) -> [EventStore.NewEvent] {
        let details = CallDetails(
            callId: call.callId, direction: call.direction.rawValue, from: call.from, to: call.to, extension: call.extension,
            status: call.status.rawValue, startedAt: call.startedAt, answeredAt: call.answeredAt, endedAt: call.endedAt,
            durationSeconds: Int(call.endedAt.timeIntervalSince(call.answeredAt ?? call.endedAt).rounded()),
            recordingUrl: call.recordingUrl)
        let origin = EventStore.Origin(source: "telephony", call: details, unmatched: match == nil)

        var draft = EventDraft()
        draft.channel = Channel.phoneCall.rawValue
        draft.direction = call.direction == .inbound ? Direction.incoming.rawValue : Direction.outgoing.rawValue
        draft.subject = call.direction == .inbound ? "Incoming call from \(number)" : "Outgoing call to \(number)"
        draft.counterpartyId = match?.counterparty
        draft.contactId = match?.contact
        draft.responsibleId = responsible
        draft.startsAt = call.startedAt
        draft.endsAt = call.endedAt

        switch (call.status, call.direction) {
        case (.answered, _):
            draft.state = EventState.completed.rawValue
            return [EventStore.NewEvent(draft: draft, origin: origin)]
        case (.missed, .inbound), (.busy, .inbound):
            draft.state = EventState.cancelled.rawValue
            draft.cancelReason = "missed"
            let missed = EventStore.NewEvent(draft: draft, origin: origin)
            var callback = EventDraft()
            callback.channel = Channel.phoneCall.rawValue
            callback.direction = Direction.outgoing.rawValue
            callback.subject = "Call back \(number)"
            callback.content = "Missed call at \(RFC3339.string(from: call.startedAt)) from \(call.from)"
            callback.counterpartyId = match?.counterparty
            callback.contactId = match?.contact
            callback.responsibleId = responsible ?? fallbackEmployee
            callback.startsAt = call.endedAt
            callback.endsAt = call.endedAt.addingTimeInterval(callbackSLA)
            callback.basis = Basis(kind: "event", id: missed.id)
            return [missed, EventStore.NewEvent(
                draft: callback, origin: .init(source: "telephony", unmatched: match == nil, at: origin.at))]
        default:
            // Failed calls, and outgoing calls nobody answered: recorded, nothing to follow up.
            draft.state = EventState.cancelled.rawValue
            draft.cancelReason = call.status.rawValue
            return [EventStore.NewEvent(draft: draft, origin: origin)]
        }
    }

    /// The counterparty (and contact) owning each number: exact E.164 first, then the last ten
    /// digits; among several, the counterparty with the most recent event (as stored before
    /// this batch), a contact before the company's own number. One query for all numbers.
    private func match(_ numbers: Set<String>, in transaction: PostgresTransaction) async throws -> [String: Match] {
        let numbers = Array(numbers)
        let rows = try await transaction.query("""
            WITH wanted AS (
                SELECT * FROM unnest(\(numbers)::text[], \(numbers.map(PhoneNumber.lastTenDigits))::text[]) AS w(number, last10)
            ),
            candidates AS (
                SELECT w.number, 0 AS rank, p.counterparty_id, p.contact_id
                FROM wanted w JOIN phone_index p ON p.e164 = w.number WHERE w.number <> ''
                UNION ALL
                SELECT w.number, 1 AS rank, p.counterparty_id, p.contact_id
                FROM wanted w JOIN phone_index p ON p.last10 = w.last10 WHERE w.last10 <> ''
            )
            SELECT DISTINCT ON (c.number) c.number, c.counterparty_id, c.contact_id
            FROM candidates c
            JOIN counterparties cp ON cp.id = c.counterparty_id AND NOT cp.deleted
            LEFT JOIN LATERAL (
                SELECT max(e.sort_at) AS last_at FROM events e WHERE e.counterparty_id = c.counterparty_id AND NOT e.deleted
            ) activity ON true
            ORDER BY c.number, c.rank, activity.last_at DESC NULLS LAST, c.contact_id IS NULL, c.counterparty_id
            """)
        var matches: [String: Match] = [:]
        for row in rows {
            matches[try row.decode("number")] = (try row.decode("counterparty_id"), try row.decodeIfPresent("contact_id"))
        }
        return matches
    }

    /// The employee answering at each extension (the lowest id if several share one).
    private func employees(withExtensions extensions: Set<String>, in transaction: PostgresTransaction) async throws -> [String: UUID] {
        let wanted = extensions.filter { !$0.isEmpty }
        guard !wanted.isEmpty else { return [:] }
        let rows = try await transaction.query("""
            SELECT DISTINCT ON (phone_extension) phone_extension, id FROM employees
            WHERE phone_extension = ANY(\(Array(wanted))::text[]) AND NOT deleted
            ORDER BY phone_extension, id
            """)
        var employees: [String: UUID] = [:]
        for row in rows {
            employees[try row.decode("phone_extension")] = try row.decode("id")
        }
        return employees
    }
}

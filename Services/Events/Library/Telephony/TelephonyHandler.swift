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
/// Set-based: a whole poll batch costs one lookup (the `callId`s already seen, the numbers'
/// owners, the extensions' employees), then `EventStore`'s bulk insert (numbers, events and
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
        // The first of a repeated `callId` wins, as it would one message at a time.
        var firstOfBatch = Set<String>()
        let distinct = batch.filter { firstOfBatch.insert($0.callId).inserted }
        let numbers = distinct.map(externalNumber)
        let found = try await lookUp(distinct, numbers: numbers, in: transaction)
        var events: [EventStore.NewEvent] = []
        for (call, number) in zip(distinct, numbers) where !found.seen.contains(call.callId) {
            events += newEvents(
                for: call, number: number, match: found.owners[number],
                responsible: call.extension.flatMap { found.employees[$0] })
        }
        _ = try await store.insert(events, in: transaction)
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

    /// What the database knows about a batch: the `callId`s already stored, the counterparty
    /// (and contact) owning each number, the employee answering at each extension.
    struct Lookup {
        var seen: Set<String> = []
        var owners: [String: Match] = [:]
        var employees: [String: UUID] = [:]
    }

    /// One round trip for the batch (`telephony_lookup`, migration 0003, which holds the rules:
    /// exact E.164 first, then the last ten digits; among several owners the counterparty with
    /// the most recent event as stored before this batch, a contact before the company's own
    /// number; the lowest employee id on a shared extension).
    private func lookUp(_ calls: [TelephonyCall], numbers: [String], in transaction: PostgresTransaction) async throws -> Lookup {
        let numbers = Array(Set(numbers))
        let extensions = Array(Set(calls.compactMap(\.extension)))
        let query: PostgresQuery = """
            SELECT found, found_key, found_id, found_contact FROM telephony_lookup(
                \(calls.map(\.callId))::text[], \(numbers)::text[], \(numbers.map(PhoneNumber.lastTenDigits))::text[],
                \(extensions)::text[])
            """
        var lookup = Lookup()
        for row in try await transaction.query(query.preparedOnce()) {
            let key = try row.decode("found_key", as: String.self)
            switch try row.decode("found", as: String.self) {
            case "seen": lookup.seen.insert(key)
            case "number": lookup.owners[key] = (try row.decode("found_id"), try row.decodeIfPresent("found_contact"))
            default: lookup.employees[key] = try row.decode("found_id")
            }
        }
        return lookup
    }
}

import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Turns call records from `crm.telephony.calls.v1` into events: answered calls into completed
/// phone-call events; missed or busy incoming calls into a cancelled "missed" event plus a
/// planned call-back based on it, due within the call-back SLA. A `callId` seen before changes
/// nothing; an invalid message goes to the dead-letter topic.
struct TelephonyHandler: MessageHandler {
    let store: EventStore
    let defaultCountryCode: String
    let callbackSLA: TimeInterval
    let fallbackEmployee: UUID?

    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        let call: TelephonyCall
        do {
            call = try TelephonyCall.decode(from: message.value ?? [])
        } catch {
            throw PermanentFailure("invalid call record: \(error)")
        }
        if try await !transaction.query("SELECT 1 FROM events WHERE call_id = \(call.callId)").isEmpty { return }

        let external = call.direction == .inbound ? call.from : call.to
        let number = PhoneNumber.normalize(external, defaultCountryCode: defaultCountryCode) ?? external
        let match = try await self.match(number, in: transaction)
        let responsible = try await employee(withExtension: call.extension, in: transaction)
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
            _ = try await store.insert(draft, origin: origin, in: transaction)
        case (.missed, .inbound), (.busy, .inbound):
            draft.state = EventState.cancelled.rawValue
            draft.cancelReason = "missed"
            let missed = try await store.insert(draft, origin: origin, in: transaction)
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
            _ = try await store.insert(
                callback, origin: .init(source: "telephony", unmatched: match == nil, at: origin.at), in: transaction)
        default:
            // Failed calls, and outgoing calls nobody answered: recorded, nothing to follow up.
            draft.state = EventState.cancelled.rawValue
            draft.cancelReason = call.status.rawValue
            _ = try await store.insert(draft, origin: origin, in: transaction)
        }
    }

    /// The counterparty (and contact) owning the number: exact E.164 first, then the last ten
    /// digits; among several, the counterparty with the most recent event, a contact before the
    /// company's own number.
    private func match(_ number: String, in transaction: PostgresTransaction) async throws -> (counterparty: UUID, contact: UUID?)? {
        for (column, value) in [("e164", number), ("last10", PhoneNumber.lastTenDigits(number))] where !value.isEmpty {
            let rows = try await transaction.query("""
                SELECT p.counterparty_id, p.contact_id FROM phone_index p
                JOIN counterparties c ON c.id = p.counterparty_id AND NOT c.deleted
                WHERE p.\(unescaped: column) = \(value)
                ORDER BY (SELECT max(e.sort_at) FROM events e WHERE e.counterparty_id = p.counterparty_id AND NOT e.deleted)
                    DESC NULLS LAST, p.contact_id IS NULL, p.counterparty_id
                LIMIT 1
                """)
            if let row = rows.first {
                return (try row.decode("counterparty_id"), try row.decodeIfPresent("contact_id"))
            }
        }
        return nil
    }

    private func employee(withExtension phoneExtension: String?, in transaction: PostgresTransaction) async throws -> UUID? {
        guard let phoneExtension, !phoneExtension.isEmpty else { return nil }
        return try await transaction.query("""
            SELECT id FROM employees WHERE phone_extension = \(phoneExtension) AND NOT deleted ORDER BY id LIMIT 1
            """).first?.decode("id", as: UUID.self)
    }
}

import Contracts
import Foundation
import Messaging
import Postgres

/// `crm republish calendar`: every active entry's current snapshot on `crm.calendar.v1` again,
/// with its version (removed entries are left out: a compacted topic that lost them has nothing
/// to forget).
struct EntryRepublisher: SnapshotRepublisher {
    var families: [String] { ["calendar-entries"] }

    func count(_ family: String, in transaction: PostgresTransaction) async throws -> Int {
        try await transaction.query("SELECT count(*) AS n FROM entries WHERE active")[0].decode("n")
    }

    func republish(
        _ family: String, after cursor: String?, limit: Int, outbox: Outbox, in transaction: PostgresTransaction
    ) async throws -> (count: Int, last: String?) {
        let after = cursor.flatMap(UUID.init(uuidString:))
        let rows = try await transaction.query("""
            SELECT e.event_id, e.employee_id, e.number, e.subject, e.channel, e.direction, e.state, e.starts_at, e.ends_at,
                e.counterparty_id, c.name AS counterparty_name, e.contact_id, e.version
            FROM entries e LEFT JOIN counterparties c ON c.id = e.counterparty_id
            WHERE e.active AND (\(after == nil) OR e.event_id > \(after))
            ORDER BY e.event_id LIMIT \(limit)
            FOR SHARE OF e
            """)
        return (rows.count, try await Self.enqueue(rows, outbox: outbox, in: transaction))
    }

    /// The entries that show a counterparty's name, again after it was renamed, so the last
    /// message of each on the compacted topic carries the current name. The entries are locked
    /// (`FOR SHARE`, which an event change's `FOR UPDATE` waits for and vice versa): the two
    /// transactions enqueue an entry's messages in commit order, so the relay sends them in
    /// that order.
    static func republish(entriesOf counterparty: UUID, outbox: Outbox, in transaction: PostgresTransaction) async throws {
        let rows = try await transaction.query("""
            SELECT e.event_id, e.employee_id, e.number, e.subject, e.channel, e.direction, e.state, e.starts_at, e.ends_at,
                e.counterparty_id, c.name AS counterparty_name, e.contact_id, e.version
            FROM entries e LEFT JOIN counterparties c ON c.id = e.counterparty_id
            WHERE e.active AND e.counterparty_id = \(counterparty)
            ORDER BY e.event_id
            FOR SHARE OF e
            """)
        _ = try await enqueue(rows, outbox: outbox, in: transaction)
    }

    /// Enqueues an upsert per entry row; returns the last key.
    private static func enqueue(_ rows: [PostgresRow], outbox: Outbox, in transaction: PostgresTransaction) async throws -> String? {
        var last: String?
        for row in rows {
            let id: UUID = try row.decode("event_id")
            let version: Int = try row.decode("version")
            let key = id.lowercasedText
            last = key
            let snapshot = EntrySnapshot(
                eventId: id, employeeId: try row.decodeIfPresent("employee_id"), number: try row.decodeIfPresent("number"),
                subject: try row.decodeIfPresent("subject"), channel: try row.decodeIfPresent("channel"),
                direction: try row.decodeIfPresent("direction"), state: try row.decodeIfPresent("state"),
                startsAt: try row.decodeIfPresent("starts_at"), endsAt: try row.decodeIfPresent("ends_at"),
                counterpartyId: try row.decodeIfPresent("counterparty_id"), counterpartyName: try row.decodeIfPresent("counterparty_name"),
                contactId: try row.decodeIfPresent("contact_id"), removed: false, version: version)
            let message = CloudEvent(
                source: CalendarService.name, type: snapshot.eventType, subject: key, version: Int64(version), data: snapshot)
            try await Republishing.enqueueOne(key, in: transaction) {
                try await outbox.enqueue(message, topic: Topic.calendar, key: key, in: $0)
            }
        }
        return last
    }
}

extension CalendarService {
    /// What `crm republish calendar` runs.
    public static func republisher() -> any SnapshotRepublisher { EntryRepublisher() }
}

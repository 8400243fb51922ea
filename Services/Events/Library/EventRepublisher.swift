import Foundation
import Messaging
import Postgres

/// `crm republish events`: every event's current snapshot, again, with its version.
struct EventRepublisher: SnapshotRepublisher {
    var families: [String] { ["events"] }

    func count(_ family: String, in transaction: PostgresTransaction) async throws -> Int {
        try await transaction.query("SELECT count(*) AS n FROM events")[0].decode("n")
    }

    func republish(
        _ family: String, after cursor: String?, limit: Int, outbox: Outbox, in transaction: PostgresTransaction
    ) async throws -> (count: Int, last: String?) {
        let store = EventStore(outbox: outbox)
        let after = cursor.flatMap(UUID.init(uuidString:))
        let rows = try await transaction.query("""
            SELECT \(unescaped: Event.columns) FROM events WHERE \(after == nil) OR id > \(after) ORDER BY id LIMIT \(limit)
            FOR SHARE
            """)
        var last: String?
        for row in rows {
            let event = try Event(row: row)
            last = event.id.lowercasedText
            try await Republishing.enqueueOne(last!, in: transaction) {
                try await store.publish(event, type: event.deleted ? "crm.event.deleted" : "crm.event.updated", in: $0)
            }
        }
        return (rows.count, last)
    }
}

extension EventsService {
    /// What `crm republish events` runs.
    public static func republisher() -> any SnapshotRepublisher { EventRepublisher() }
}

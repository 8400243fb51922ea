import Foundation
import Messaging
import Postgres

/// `crm republish documents`: every order's current snapshot, again, with its version.
struct OrderRepublisher: SnapshotRepublisher {
    var families: [String] { ["orders"] }

    func count(_ family: String, in transaction: PostgresTransaction) async throws -> Int {
        try await transaction.query("SELECT count(*) AS n FROM orders")[0].decode("n")
    }

    func republish(
        _ family: String, after cursor: String?, limit: Int, outbox: Outbox, in transaction: PostgresTransaction
    ) async throws -> (count: Int, last: String?) {
        // The currency default only matters when creating; republishing never creates.
        let store = OrderStore(outbox: outbox, defaultCurrency: "RUB")
        let after = cursor.flatMap(UUID.init(uuidString:))
        let rows = try await transaction.query("""
            SELECT id, kind FROM orders WHERE \(after == nil) OR id > \(after) ORDER BY id LIMIT \(limit)
            FOR SHARE
            """)
        var last: String?
        for row in rows {
            guard let kind = OrderKind(rawValue: try row.decode("kind")) else { continue }
            let order = try await store.get(try row.decode("id"), kind: kind, in: transaction)
            last = order.id.lowercasedText
            try await Republishing.enqueueOne(last!, in: transaction) {
                try await store.publish(order, type: order.deleted ? "deleted" : "updated", in: $0)
            }
        }
        return (rows.count, last)
    }
}

extension DocumentsService {
    /// What `crm republish documents` runs.
    public static func republisher() -> any SnapshotRepublisher { OrderRepublisher() }
}

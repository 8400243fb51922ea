import Foundation
import Messaging
import Postgres

/// `crm republish reporting`: the current figures of every project and every stored segment on
/// the report topics again (each with the next publication version).
struct ReportRepublisher: SnapshotRepublisher {
    var families: [String] { ["projects", "segments"] }

    func count(_ family: String, in transaction: PostgresTransaction) async throws -> Int {
        let table = family == "projects" ? "project_facts" : "segment_stats"
        return try await transaction.query("SELECT count(*) AS n FROM \(identifier: table)")[0].decode("n")
    }

    func republish(
        _ family: String, after cursor: String?, limit: Int, outbox: Outbox, in transaction: PostgresTransaction
    ) async throws -> (count: Int, last: String?) {
        let rows: [PostgresRow]
        if family == "projects" {
            rows = try await transaction.query("""
                WITH page AS (
                    SELECT id::text AS key FROM project_facts WHERE \(cursor == nil) OR id::text > \(cursor ?? "")
                    ORDER BY id::text LIMIT \(limit))
                INSERT INTO report_dirty (topic, key) SELECT 'projects', key FROM page ON CONFLICT DO NOTHING
                RETURNING key
                """)
        } else {
            rows = try await transaction.query("""
                WITH page AS (
                    SELECT attr_key || E'\\x1f' || value AS key FROM segment_stats
                    WHERE \(cursor == nil) OR attr_key || E'\\x1f' || value > \(cursor ?? "")
                    ORDER BY 1 LIMIT \(limit))
                INSERT INTO report_dirty (topic, key) SELECT 'segments', key FROM page ON CONFLICT DO NOTHING
                RETURNING key
                """)
        }
        try await ReportPublisher(outbox: outbox).publishDirty(in: transaction)
        let keys = try rows.map { try $0.decode("key", as: String.self) }.sorted()
        return (keys.count, keys.last)
    }
}

extension ReportingService {
    /// What `crm republish reporting` runs.
    public static func republisher() -> any SnapshotRepublisher { ReportRepublisher() }
}

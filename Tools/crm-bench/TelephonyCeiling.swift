import Events
import Foundation
import Messaging
import Postgres

/// The raw ceiling for call ingestion: what the telephony handler writes per answered call (an
/// event row in a table shaped and indexed like crm-events' own, and an outbox row), written
/// in 500-row multi-VALUES statements built as the services build theirs, one transaction and one NOTIFY per 500 calls, into a
/// scratch schema that is dropped afterwards.
struct TelephonyCeiling {
    let databaseURL: String

    func rowsPerSecond(rows: Int) async throws -> Double {
        let schema = "bench_telephony_\(UUID().uuidString.prefix(8).lowercased())"
        let table = Migration(name: "0001_events_like", sql: """
            CREATE TABLE events (LIKE \(EventsService.schema).events INCLUDING ALL);
            """)
        try await Migrator(schema: schema, migrations: Outbox.migrations + [table]).apply(url: databaseURL)
        let pool = PostgresPool(.init(url: databaseURL, searchPath: schema, maxConnections: 1, applicationName: "crm-bench"))
        do {
            let rate = try await insert(rows: rows, pool: pool, channel: Outbox(schema: schema).channel)
            try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            await pool.close()
            return rate
        } catch {
            _ = try? await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            await pool.close()
            throw error
        }
    }

    private func insert(rows: Int, pool: PostgresPool, channel: String) async throws -> Double {
        let started = Date(timeIntervalSince1970: 1_893_456_000)
        let counterparty = UUID()
        let employee = UUID()
        let payload = String(repeating: "x", count: 700)
        let start = ContinuousClock.now
        for chunk in stride(from: 0, to: rows, by: 500) {
            // Built the way the services build theirs (`PostgresQuery.withValues`, every value a
            // parameter), so the ratio compares the pipeline with the same statements alone.
            var events: [[(any PostgresEncodable)?]] = []
            var outbox: [[(any PostgresEncodable)?]] = []
            for index in chunk..<min(chunk + 500, rows) {
                let id = UUID()
                let now = Date()
                events.append([
                    id, "RAW-\(index)", "phone-call", "incoming", "completed", "Incoming call from +15550000\(index % 1000)",
                    counterparty, employee, started, started.addingTimeInterval(95), "telephony", PostgresJSON(text: "{}"),
                    "raw-\(index)", now, 1, now, now,
                ])
                outbox.append(["crm.events.v1", id.lowercasedText, payload, PostgresJSON(text: "{}")])
            }
            try await pool.withTransaction { [events, outbox] transaction in
                try await transaction.execute(.withValues("""
                    INSERT INTO events (id, number, channel, direction, state, subject, counterparty_id, responsible_id,
                        starts_at, ends_at, source, call, call_id, completed_at, version, created_at, updated_at) VALUES
                    """, events))
                try await transaction.execute(.withValues("INSERT INTO outbox (topic, message_key, payload, headers) VALUES", outbox))
                try await transaction.execute("SELECT pg_notify(\(channel), '')")
            }
        }
        return Double(rows) / (ContinuousClock.now - start).inSeconds
    }
}

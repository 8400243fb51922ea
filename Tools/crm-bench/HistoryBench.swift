import ArgumentParser
import Events
import Foundation
import Postgres

/// How fast one counterparty's latest 50 events come back from a large events table (the
/// query `GET /v1/events?counterpartyId=` runs), with the service's own schema and indexes.
struct HistoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events-history", abstract: "Latest 50 events of one counterparty among many events.")

    @Option(help: "Events to generate.")
    var events = 1_000_000

    @Option(help: "Counterparties they are spread over.")
    var counterparties = 100_000

    @Option(help: "Queries to time.")
    var queries = 200

    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, then CRM_TEST_DATABASE_URL).")
    var databaseURL: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["CRM_DATABASE_URL"] ?? environment["CRM_TEST_DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or run `source .crm/env` after deploy/local/up")
        }
        let schema = "bench_history_\(UUID().uuidString.prefix(8).lowercased())"
        try await Migrator(schema: schema, migrations: try EventsService.migrations()).apply(url: url)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 2))
        print("crm-bench events-history: \(events) events over \(counterparties) counterparties")

        let start = ContinuousClock.now
        // Counterparty ids are derived from a number so the benchmark can pick one without a lookup.
        try await pool.execute("""
            INSERT INTO events (id, number, channel, direction, state, subject, content, counterparty_id, starts_at, source,
                version, created_at, updated_at)
            SELECT gen_random_uuid(), 'EV-' || n, 'phone-call', 'outgoing', 'completed', 'Call ' || n, 'Notes of call ' || n,
                md5('cp' || (n % \(counterparties)))::uuid, now() - (n || ' seconds')::interval, 'api', 1, now(), now()
            FROM generate_series(1, \(events)) AS n
            """)
        try await pool.execute("ANALYZE events")
        print("  generated and indexed in \(seconds(ContinuousClock.now - start)) s")

        var timings: [Double] = []
        for index in 0..<queries {
            let counterparty = try await pool.query("SELECT md5(\("cp\(index * 7919 % counterparties)"))::uuid AS id")[0]
                .decode("id", as: UUID.self)
            let begin = ContinuousClock.now
            let rows = try await pool.query("""
                SELECT id, number, subject, sort_at FROM events
                WHERE NOT deleted AND counterparty_id = \(counterparty)
                ORDER BY sort_at DESC, id DESC LIMIT 51
                """)
            timings.append(seconds(ContinuousClock.now - begin) * 1000)
            precondition(!rows.isEmpty, "every generated counterparty has events")
        }
        timings.sort()
        print(String(format: "  latest 50 of one counterparty: median %.2f ms, p95 %.2f ms, max %.2f ms (%d queries)",
                     timings[timings.count / 2], timings[timings.count * 95 / 100], timings.last ?? 0, queries))
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

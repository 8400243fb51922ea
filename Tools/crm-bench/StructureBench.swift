import ArgumentParser
import Documents
import Foundation
import Postgres

/// How fast `GET /v1/structure?document=…` answers among many documents: the service's own
/// schema, indexes and query, over generated trees of events and orders of 1 to 50 nodes each.
struct StructureBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents-structure", abstract: "Structure query latency among many linked documents.")

    @Option(help: "Documents (events and orders) to generate.")
    var documents = 1_000_000

    @Option(help: "Queries to time.")
    var queries = 2000

    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, then CRM_TEST_DATABASE_URL).")
    var databaseURL: String?

    @Flag(help: "Keep the generated schema (to query it again with --schema).")
    var keep = false

    @Option(help: "Time the queries on a schema a run with --keep generated, instead of generating one.")
    var schema: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["CRM_DATABASE_URL"] ?? environment["CRM_TEST_DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or run `source .crm/env` after deploy/local/up")
        }
        let schema = self.schema ?? "bench_structure_\(UUID().uuidString.prefix(8).lowercased())"
        try await Migrator(schema: schema, migrations: try DocumentsService.migrations()).apply(url: url)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 2, session: .unlimited))
        if self.schema == nil {
            try await generate(pool)
        }
        // Start from any node of a random tree: the query walks up to the root, then down.
        let samples = try await pool.query("""
            SELECT kind, id FROM generated TABLESAMPLE SYSTEM (1) ORDER BY random() LIMIT \(queries)
            """)
        var database: [Double] = []
        var service: [Double] = []
        var nodes = 0
        for row in samples {
            let kind = try row.decode("kind", as: String.self)
            let id = try row.decode("id", as: UUID.self)
            // The query alone (one small answer row), then what the handler does (rows decoded, tree built).
            var begin = ContinuousClock.now
            _ = try await pool.query("SELECT count(*) AS n FROM document_structure('document', \(kind), \(id), 50, 1000)")
            database.append(seconds(ContinuousClock.now - begin) * 1000)
            begin = ContinuousClock.now
            let answer = try await DocumentsService.structure(document: kind, id: id, in: pool)
            service.append(seconds(ContinuousClock.now - begin) * 1000)
            nodes += answer.nodes
            precondition(answer.nodes >= 1 && !answer.truncated, "every generated tree fits the bounds")
        }
        func report(_ name: String, _ timings: [Double]) {
            let timings = timings.sorted()
            func percentile(_ p: Int) -> Double { timings[min(timings.count - 1, timings.count * p / 100)] }
            print(String(
                format: "  %@: median %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms (%d queries)",
                name, percentile(50), percentile(95), percentile(99), timings.last ?? 0, timings.count))
        }
        print(String(format: "  trees of the sampled documents: %.1f nodes on average", Double(nodes) / Double(max(1, service.count))))
        report("structure query in PostgreSQL", database)
        report("query + rows decoded + tree built (HTTP excluded)", service)
        if keep || self.schema != nil {
            print("  kept schema \(schema)")
        } else {
            try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        }
        await pool.close()
    }

    private func generate(_ pool: PostgresPool) async throws {
        // Trees of 1 + hash(t) mod 50 nodes: 25.5 on average.
        let trees = max(1, Int((Double(documents) / 25.5).rounded()))
        print("crm-bench documents-structure: ~\(documents) documents in \(trees) trees of 1–50 nodes")

        let start = ContinuousClock.now
        // Node j of tree t: an event when j = 0 or j mod 3 = 1, else a customer or supplier order;
        // its basis is node hash(t, j) mod j of the same tree (a random earlier node).
        try await pool.execute("""
            CREATE UNLOGGED TABLE generated AS
            SELECT t, j, md5(t || ':' || j)::uuid AS id,
                CASE WHEN j = 0 OR j % 3 = 1 THEN 'event' WHEN j % 3 = 2 THEN 'customer-order' ELSE 'supplier-order' END AS kind,
                CASE WHEN j = 0 THEN NULL ELSE abs(hashint4(t * 64 + j)) % j END AS parent,
                md5('cp' || (t % 20000))::uuid AS counterparty_id
            FROM generate_series(1, \(trees)) AS t
            CROSS JOIN LATERAL generate_series(0, abs(hashint4(t)) % 50) AS j
            """)
        try await pool.execute("""
            INSERT INTO events (id, number, state, subject, starts_at, created_at, counterparty_id, basis_kind, basis_id, deleted, version)
            SELECT g.id, 'EV-' || (g.t * 64 + g.j), 'completed', 'Call ' || g.t || '/' || g.j, now() - (g.t || ' minutes')::interval,
                now(), g.counterparty_id, p.kind, p.id, false, 1
            FROM generated g LEFT JOIN generated p ON p.t = g.t AND p.j = g.parent
            WHERE g.kind = 'event'
            """)
        try await pool.execute("""
            INSERT INTO orders (id, kind, seq, number, state, counterparty_id, date, currency, basis_kind, basis_id, total,
                created_at, updated_at, version)
            SELECT g.id, g.kind, g.t * 64 + g.j, CASE g.kind WHEN 'customer-order' THEN 'CO-' ELSE 'SO-' END || (g.t * 64 + g.j),
                'confirmed', g.counterparty_id, current_date - (g.t % 365), 'RUB', p.kind, p.id, ((g.t % 1000) || '.50')::numeric,
                now(), now(), 1
            FROM generated g JOIN generated p ON p.t = g.t AND p.j = g.parent
            WHERE g.kind <> 'event'
            """)
        try await pool.execute("ANALYZE events")
        try await pool.execute("ANALYZE orders")
        let count = try await pool.query("SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM orders) AS n")[0]
            .decode("n", as: Int.self)
        print("  generated \(count) documents and their indexes in \(String(format: "%.1f", seconds(ContinuousClock.now - start))) s")
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

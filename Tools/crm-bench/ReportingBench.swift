import ArgumentParser
import Foundation
import Postgres
import Reporting

/// crm-reporting figures: how fast snapshots are applied to facts and aggregates (the service's
/// own `ingest_*` functions, one call per snapshot, 500 per transaction as the consumer runtime
/// does), next to a plain versioned upsert of the same rows; report read latency over a large
/// bulk-loaded history; and the cost of re-segmenting one counterparty with many events.
struct ReportingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reporting", abstract: "Aggregation throughput, report read latency, re-segmenting cost.")

    @Option(help: "Event snapshots for the throughput measurement.")
    var snapshots = 20_000

    @Option(help: "Counterparties of the bulk-loaded history.")
    var counterparties = 100_000

    @Option(help: "Events of the bulk-loaded history.")
    var events = 1_000_000

    @Option(help: "Projects of the bulk-loaded history.")
    var projects = 100

    @Option(help: "Reads to time per report.")
    var queries = 300

    @Option(help: "Events of the counterparty that is re-segmented.")
    var resegmentEvents = 1_000

    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, then CRM_TEST_DATABASE_URL).")
    var databaseURL: String?

    static let counterpartySet = """
        [{"key":"vip","type":"boolean"},{"key":"tier","type":"enum","options":["gold","silver","bronze"]},
         {"key":"manager","type":"reference","referenceKind":"employee"},{"key":"note","type":"string"}]
        """

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["CRM_DATABASE_URL"] ?? environment["CRM_TEST_DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or run `source .crm/env` after deploy/local/up")
        }
        print("crm-bench reporting: \(snapshots) snapshots; history of \(events) events over \(counterparties) counterparties and \(projects) projects")
        try await throughput(url: url)
        try await readLatency(url: url)
    }

    // MARK: - Throughput

    private func throughput(url: String) async throws {
        let schema = "bench_reporting_\(UUID().uuidString.prefix(8).lowercased())"
        try await Migrator(schema: schema, migrations: try ReportingService.migrations()).apply(url: url)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 2, session: .unlimited))
        let seedCounterparties = 10_000
        // Counterparties with values, loaded set-based; their segments built by segment_attribute_added.
        try await pool.execute("INSERT INTO attribute_set_facts VALUES ('counterparty', 1, \(Self.counterpartySet)::jsonb)")
        try await pool.execute("""
            INSERT INTO counterparty_facts SELECT md5('cp' || n)::uuid, 1, 'Counterparty ' || n, false FROM generate_series(0, \(seedCounterparties - 1)) n
            """)
        try await pool.execute("""
            INSERT INTO value_facts SELECT 'counterparty', md5('cp' || n)::uuid, 1,
                jsonb_build_object('vip', n % 10 = 0, 'tier', (ARRAY['gold', 'silver', 'bronze'])[n % 3 + 1], 'manager', md5('emp' || n % 50)::text)
            FROM generate_series(0, \(seedCounterparties - 1)) n
            """)
        for (key, type) in [("vip", "boolean"), ("tier", "enum"), ("manager", "reference")] {
            try await pool.execute("INSERT INTO segment_attributes VALUES (\(key), \(type))")
            try await pool.execute("SELECT segment_attribute_added(\(key))")
        }
        try await pool.execute("DELETE FROM report_dirty")
        try await pool.execute("ANALYZE")
        let ids = (0..<snapshots).map { _ in UUID() }
        let states = ["planned", "completed", "cancelled"]
        let channels = ["phone-call", "email", "meeting", "message", "other"]

        // The same rows through a plain versioned upsert (what a projection without aggregates costs).
        try await pool.execute("CREATE TABLE plain_events (LIKE event_facts INCLUDING ALL)")
        let plain = try await timed(ids.count) {
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                try await pool.withTransaction { transaction in
                    for index in chunk..<min(chunk + 500, ids.count) {
                        try await transaction.execute("""
                            INSERT INTO plain_events VALUES (\(ids[index]), 1, md5(\("pr\(index % 100)"))::uuid, md5(\("cp\(index % seedCounterparties)"))::uuid,
                                NULL, \(channels[index % 5]), \(states[index % 3]), false, now(), current_date)
                            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version WHERE plain_events.version < EXCLUDED.version
                            """)
                    }
                }
            }
        }
        // As the consumer applies a batch: the run's snapshots in one ingest_events call.
        let applyEvents = try await timed(ids.count) {
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                try await pool.withTransaction { transaction in
                    _ = try await transaction.query("""
                        SELECT ingest_events((
                            SELECT jsonb_agg(to_jsonb(ROW(u.id, 1, md5('pr' || ((u.n - 1 + \(chunk)) % 100))::uuid,
                                md5('cp' || ((u.n - 1 + \(chunk)) % \(seedCounterparties)))::uuid, NULL,
                                (\(channels)::text[])[(u.n - 1 + \(chunk)) % 5 + 1], (\(states)::text[])[(u.n - 1 + \(chunk)) % 3 + 1],
                                false, now(), current_date)::event_facts) ORDER BY u.n)
                            FROM unnest(\(Array(ids[chunk..<min(chunk + 500, ids.count)]))::uuid[]) WITH ORDINALITY AS u(id, n)))
                        """)
                    _ = try await transaction.query("SELECT count(*) FROM take_dirty_reports()")
                }
            }
        }
        let orders = ids.count / 4
        let applyOrders = try await timed(orders) {
            for chunk in stride(from: 0, to: orders, by: 500) {
                try await pool.withTransaction { transaction in
                    for index in chunk..<min(chunk + 500, orders) {
                        _ = try await transaction.query("""
                            SELECT ingest_order(ROW(gen_random_uuid(), 1, \(index % 2 == 0 ? "customer" : "supplier"), 'confirmed',
                                md5(\("cp\(index % seedCounterparties)"))::uuid, NULL, 'RUB', 1250.50, false)::order_facts)
                            """)
                    }
                    _ = try await transaction.query("SELECT count(*) FROM take_dirty_reports()")
                }
            }
        }
        print("  aggregation, 3 segmentable counterparty attributes, 500 snapshots per transaction:")
        print(String(format: "    event snapshots → facts + aggregates   %8.0f /s  (ingest_events, 500 per call)", applyEvents))
        print(String(format: "    order snapshots → facts + aggregates   %8.0f /s", applyOrders))
        print(String(format: "    plain versioned upsert (ceiling)       %8.0f /s", plain))
        let differences = try await pool.query("SELECT count(*) AS n FROM consistency()")[0].decode("n", as: Int.self)
        print("    consistency differences after the run: \(differences)")
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }

    // MARK: - Read latency over a bulk-loaded history

    private func readLatency(url: String) async throws {
        let schema = "bench_reporting_\(UUID().uuidString.prefix(8).lowercased())"
        try await Migrator(schema: schema, migrations: try ReportingService.migrations()).apply(url: url)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 2, session: .unlimited))
        let start = ContinuousClock.now
        try await bulkLoad(pool)
        print("  history bulk-loaded (facts, rollups, segments via segment_attribute_added) in \(Int(seconds(ContinuousClock.now - start))) s")

        var projectTimes: [Double] = []
        var segmentTimes: [Double] = []
        for index in 0..<queries {
            let project = "pr\(index % projects)"
            var begin = ContinuousClock.now
            let report = try await pool.query("SELECT project_report(md5(\(project))::uuid)::text AS doc")
            projectTimes.append(seconds(ContinuousClock.now - begin) * 1000)
            precondition(report.first?["doc"] != nil, "every generated project has a report")
            begin = ContinuousClock.now
            _ = try await pool.query("SELECT segment_report('vip')::text AS doc")
            segmentTimes.append(seconds(ContinuousClock.now - begin) * 1000)
        }
        print(String(format: "  project report (with 90-day timeline):  median %.2f ms, p99 %.2f ms", percentile(projectTimes, 50), percentile(projectTimes, 99)))
        print(String(format: "  VIP segments report:                    median %.2f ms, p99 %.2f ms", percentile(segmentTimes, 50), percentile(segmentTimes, 99)))

        // One counterparty with many events changes its VIP value.
        let heavy = "heavy"
        _ = try await pool.query("SELECT ingest_counterparty(md5(\(heavy))::uuid, 1, 'Heavy', false)")
        for minute in 1...resegmentEvents {
            _ = try await pool.query("""
                SELECT ingest_event(ROW(gen_random_uuid(), 1, md5('pr0')::uuid, md5(\(heavy))::uuid, NULL, 'phone-call', 'completed', false,
                    now() - make_interval(mins => \(minute)::int), current_date)::event_facts)
                """)
        }
        var flips: [Double] = []
        for version in 1...20 {
            let begin = ContinuousClock.now
            try await pool.withTransaction { transaction in
                _ = try await transaction.query("""
                    SELECT ingest_values('counterparty', md5(\(heavy))::uuid, \(version), jsonb_build_object('vip', \(version % 2 == 0)::boolean))
                    """)
                _ = try await transaction.query("SELECT count(*) FROM take_dirty_reports()")
            }
            flips.append(seconds(ContinuousClock.now - begin) * 1000)
        }
        print(String(format: "  re-segmenting a counterparty with %d events: median %.2f ms, max %.2f ms (transaction incl. publishing)",
                     resegmentEvents, percentile(flips, 50), flips.max() ?? 0))
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }

    /// Facts and aggregates loaded set-based (the per-snapshot path would take hours for
    /// 10,000,000 events); the segments are then built by the service's own
    /// `segment_attribute_added`, the path a newly defined attribute takes.
    private func bulkLoad(_ pool: PostgresPool) async throws {
        let c = counterparties, e = events, p = projects
        try await pool.execute("INSERT INTO attribute_set_facts VALUES ('counterparty', 1, \(Self.counterpartySet)::jsonb)")
        try await pool.execute("""
            INSERT INTO attribute_set_facts VALUES ('event', 1, '[{"key":"score","type":"integer"},{"key":"answer","type":"enum","options":["yes","no"]}]')
            """)
        try await pool.execute("INSERT INTO project_facts SELECT md5('pr' || n)::uuid, 1, 'Project ' || n, false FROM generate_series(0, \(p - 1)) n")
        try await pool.execute("INSERT INTO employee_facts SELECT md5('emp' || n)::uuid, 1, 'Employee ' || n, false FROM generate_series(0, 499) n")
        try await pool.execute("INSERT INTO counterparty_facts SELECT md5('cp' || n)::uuid, 1, 'Counterparty ' || n, false FROM generate_series(0, \(c - 1)) n")
        try await pool.execute("""
            INSERT INTO value_facts SELECT 'counterparty', md5('cp' || n)::uuid, 1,
                CASE WHEN n % 7 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('vip', n % 10 = 0,
                    'tier', (ARRAY['gold', 'silver', 'bronze'])[n % 3 + 1], 'manager', md5('emp' || n % 500)::text) END
            FROM generate_series(0, \(c - 1)) n
            """)
        try await pool.execute("""
            INSERT INTO event_facts
            SELECT md5('ev' || n)::uuid, 1, md5('pr' || n % \(p))::uuid, md5('cp' || n % \(c))::uuid, md5('emp' || n % 500)::uuid,
                (ARRAY['phone-call', 'email', 'meeting', 'message', 'other'])[n % 5 + 1], (ARRAY['planned', 'completed', 'cancelled'])[n % 3 + 1],
                false, now() - (n || ' seconds')::interval,
                CASE WHEN n % 3 = 1 THEN (now() - (n || ' seconds')::interval)::date END
            FROM generate_series(1, \(e)) n
            """)
        try await pool.execute("""
            INSERT INTO value_facts SELECT 'event', md5('ev' || n)::uuid, 1,
                jsonb_build_object('score', n % 5 + 1, 'answer', CASE WHEN n % 2 = 0 THEN 'yes' ELSE 'no' END)
            FROM generate_series(1, \(e), 10) n
            """)
        try await pool.execute("""
            INSERT INTO project_stats (project_id, total, planned, completed, cancelled, phone_call, email, meeting, message, other)
            SELECT project_id, count(*), count(*) FILTER (WHERE state = 'planned'), count(*) FILTER (WHERE state = 'completed'),
                count(*) FILTER (WHERE state = 'cancelled'), count(*) FILTER (WHERE channel = 'phone-call'),
                count(*) FILTER (WHERE channel = 'email'), count(*) FILTER (WHERE channel = 'meeting'),
                count(*) FILTER (WHERE channel = 'message'), count(*) FILTER (WHERE channel = 'other')
            FROM event_facts GROUP BY project_id
            """)
        try await pool.execute("""
            INSERT INTO project_responsibles SELECT project_id, responsible_id, count(*), count(*) FILTER (WHERE state = 'completed')
            FROM event_facts GROUP BY project_id, responsible_id
            """)
        try await pool.execute("""
            INSERT INTO project_days SELECT project_id, completed_day, count(*) FROM event_facts
            WHERE state = 'completed' AND completed_day IS NOT NULL GROUP BY project_id, completed_day
            """)
        try await pool.execute("""
            WITH v AS (
                SELECT e.project_id, x.key AS attr_key, v.vals ->> x.key AS value,
                    CASE WHEN jsonb_typeof(x.value) = 'number' THEN (x.value #>> '{}')::numeric END AS num
                FROM event_facts e JOIN value_facts v ON v.kind = 'event' AND v.object_id = e.id, jsonb_each(v.vals) x),
            values_rows AS (
                INSERT INTO project_attribute_values SELECT project_id, attr_key, value, min(num), count(*) FROM v GROUP BY 1, 2, 3)
            INSERT INTO project_attributes SELECT project_id, attr_key, count(*), count(num), coalesce(sum(num), 0) FROM v GROUP BY 1, 2
            """)
        try await pool.execute("""
            INSERT INTO counterparty_stats
            SELECT f.id, coalesce(s.total, 0), coalesce(s.planned, 0), coalesce(s.completed, 0), coalesce(s.cancelled, 0),
                coalesce(s.phone_call, 0), coalesce(s.email, 0), coalesce(s.meeting, 0), coalesce(s.message, 0), coalesce(s.other, 0), s.last_event_at
            FROM counterparty_facts f LEFT JOIN (
                SELECT counterparty_id, count(*) AS total, count(*) FILTER (WHERE state = 'planned') AS planned,
                    count(*) FILTER (WHERE state = 'completed') AS completed, count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
                    count(*) FILTER (WHERE channel = 'phone-call') AS phone_call, count(*) FILTER (WHERE channel = 'email') AS email,
                    count(*) FILTER (WHERE channel = 'meeting') AS meeting, count(*) FILTER (WHERE channel = 'message') AS message,
                    count(*) FILTER (WHERE channel = 'other') AS other, max(sort_at) AS last_event_at
                FROM event_facts GROUP BY counterparty_id) s ON s.counterparty_id = f.id
            """)
        try await pool.execute("""
            INSERT INTO order_facts SELECT md5('or' || n)::uuid, 1, CASE WHEN n % 2 = 0 THEN 'customer' ELSE 'supplier' END,
                (ARRAY['draft', 'confirmed', 'completed', 'cancelled'])[n % 4 + 1], md5('cp' || n % \(c))::uuid, NULL,
                (ARRAY['RUB', 'USD'])[n % 2 + 1], (n % 100000) / 100.0, false
            FROM generate_series(1, \(max(1, c / 2))) n
            """)
        try await pool.execute("""
            INSERT INTO counterparty_orders SELECT counterparty_id, kind, currency, count(*), sum(total) FROM order_facts
            WHERE state IN ('confirmed', 'completed') GROUP BY 1, 2, 3
            """)
        for key in ["vip", "tier", "manager"] {
            let type = key == "vip" ? "boolean" : key == "tier" ? "enum" : "reference"
            try await pool.execute("INSERT INTO segment_attributes VALUES (\(key), \(type))")
            try await pool.execute("SELECT segment_attribute_added(\(key))")
        }
        try await pool.execute("DELETE FROM report_dirty")
        try await pool.execute("ANALYZE")
    }

    private func timed(_ count: Int, _ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        return Double(count) / seconds(ContinuousClock.now - start)
    }

    private func percentile(_ values: [Double], _ p: Int) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, sorted.count * p / 100)]
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

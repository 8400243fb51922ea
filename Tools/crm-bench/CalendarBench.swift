import ArgumentParser
import CalendarService
import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Week view and free-busy latency of one employee among many entries, with the service's own
/// schema, index and queries; and the projection's throughput applying `crm.events.v1`
/// snapshots next to the raw ceiling of plain inserts.
struct CalendarBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar", abstract: "Calendar week view / free-busy latency and projection throughput.")

    @Option(help: "Entries to generate.")
    var entries = 10_000_000

    @Option(help: "Employees they are spread over (entries spread over one year).")
    var employees = 10_000

    @Option(help: "Week views and free-busy reads to time (each).")
    var queries = 1000

    @Option(help: "crm.events.v1 snapshots to apply through the projection handler (0: skip).")
    var projectionMessages = 20_000

    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, then CRM_TEST_DATABASE_URL).")
    var databaseURL: String?

    @Flag(help: "Keep the benchmark schema (to rerun queries by hand).")
    var keep = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["CRM_DATABASE_URL"] ?? environment["CRM_TEST_DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or run `source .crm/env` after deploy/local/up")
        }
        let schema = "bench_calendar_\(UUID().uuidString.prefix(8).lowercased())"
        try await Migrator(schema: schema, migrations: Outbox.migrations + (try CalendarService.migrations())).apply(url: url)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 2))
        print("crm-bench calendar: \(entries) entries over \(employees) employees (one year)")
        let base = Date(timeIntervalSince1970: 1_893_456_000)  // 2030-01-01T00:00:00Z

        // Bulk load without the range index, then build it with the migration's definition.
        let start = ContinuousClock.now
        let index = try await pool.query("""
            SELECT indexdef FROM pg_indexes WHERE schemaname = \(schema) AND indexname = 'entries_by_employee_time'
            """)[0].decode("indexdef", as: String.self)
        try await pool.withConnection { connection in
            try await connection.execute("SET maintenance_work_mem = '512MB'")
            try await connection.execute("SET statement_timeout = 0")
            try await connection.execute("DROP INDEX entries_by_employee_time")
            // Employee ids derive from a number so the benchmark picks one without a lookup;
            // starts spread over the year, 15 to 120 minutes long, 5% completed, 2% cancelled.
            try await connection.execute("""
                INSERT INTO entries (event_id, active, employee_id, number, subject, channel, direction, state,
                    starts_at, ends_at, event_updated_at, version)
                SELECT gen_random_uuid(), true, md5('emp' || (n % \(employees)))::uuid, 'EV-' || n, 'Call ' || n,
                    'phone-call', 'outgoing',
                    CASE WHEN n % 50 = 0 THEN 'cancelled' WHEN n % 20 = 0 THEN 'completed' ELSE 'planned' END,
                    s, s + ((15 + n % 106) || ' minutes')::interval, now(), 1
                FROM (SELECT n, \(base)::timestamptz + ((hashint4(n)::bigint & 2147483647) % 31536000) * interval '1 second' AS s
                      FROM generate_series(1, \(entries)) AS n) g
                """)
            try await connection.execute(PostgresQuery(sql: index))
            try await connection.execute("ANALYZE entries")
        }
        print(String(format: "  generated and indexed in %.1f s", seconds(ContinuousClock.now - start)))

        var week: [Double] = []
        var busy: [Double] = []
        var found = 0
        for query in 0..<queries {
            let employee = try await pool.query("SELECT md5(\("emp\(query * 7919 % employees)"))::uuid AS id")[0]
                .decode("id", as: UUID.self)
            let from = base.addingTimeInterval(Double(query * 104_729 % 51) * 7 * 86_400)
            let to = from.addingTimeInterval(7 * 86_400)
            var begin = ContinuousClock.now
            found += try await pool.withTransaction { try await CalendarQueries.weekView(employee: employee, from: from, to: to, in: $0) }
            week.append(seconds(ContinuousClock.now - begin) * 1000)
            begin = ContinuousClock.now
            _ = try await pool.withTransaction { try await CalendarQueries.freeBusy(employee: employee, from: from, to: to, in: $0) }
            busy.append(seconds(ContinuousClock.now - begin) * 1000)
        }
        report("week view", week, note: String(format: "%.1f entries a week", Double(found) / Double(queries)))
        report("free-busy", busy)

        if projectionMessages > 0 { try await projection(pool: pool, schema: schema, base: base) }

        if !keep { try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE") }
        await pool.close()
    }

    /// Applies event snapshots the way the consumer runtime's fast path does (one transaction
    /// per 500-message batch), then times plain single-row inserts in 500-row transactions.
    private func projection(pool: PostgresPool, schema: String, base: Date) async throws {
        let handler = CalendarQueries.projectionHandler(outbox: Outbox(schema: schema), now: { base })
        let encoder = CRMJSON.makeEncoder()
        let employee = UUID()
        var messages: [KafkaMessage] = []
        for index in 0..<projectionMessages {
            let id = UUID().lowercasedText
            let startsAt = base.addingTimeInterval(Double(index % 10_000) * 600 + 3600)
            let data: JSONValue = .object([
                "id": .string(id), "number": .string("EV-\(index)"), "channel": .string("phone-call"),
                "direction": .string("outgoing"), "state": .string("planned"), "subject": .string("Call \(index)"),
                "content": .string("Notes"), "responsibleId": .string(employee.lowercasedText),
                "startsAt": .string(RFC3339.string(from: startsAt)),
                "endsAt": .string(RFC3339.string(from: startsAt.addingTimeInterval(900))),
                "updatedAt": .string(RFC3339.string(from: base)), "deleted": .bool(false), "version": .number(1),
            ])
            let envelope = CloudEvent(source: "crm-events", type: "crm.event.created", subject: id, version: 1, data: data)
            messages.append(KafkaMessage(
                topic: Topic.events, partition: 0, offset: Int64(index), key: Array(id.utf8),
                value: Array(try encoder.encode(envelope)), headers: [], timestamp: nil))
        }
        var begin = ContinuousClock.now
        for batch in stride(from: 0, to: messages.count, by: 500) {
            try await pool.withTransaction { transaction in
                for message in messages[batch..<min(batch + 500, messages.count)] {
                    try await handler.handle(message, in: transaction)
                }
            }
        }
        let applied = Double(messages.count) / seconds(ContinuousClock.now - begin)

        try await pool.execute("CREATE TABLE raw_ceiling (id uuid PRIMARY KEY, payload text NOT NULL)")
        begin = ContinuousClock.now
        for batch in stride(from: 0, to: messages.count, by: 500) {
            try await pool.withTransaction { transaction in
                for message in messages[batch..<min(batch + 500, messages.count)] {
                    try await transaction.execute("INSERT INTO raw_ceiling (id, payload) VALUES (\(UUID()), \(message.valueString ?? ""))")
                }
            }
        }
        let raw = Double(messages.count) / seconds(ContinuousClock.now - begin)
        print(String(format: "  projection: %.0f crm.events.v1 snapshots/s applied (entry + reminder + outbox row each); raw ceiling %.0f single-row inserts/s (%d messages, 500 per transaction)",
                     applied, raw, messages.count))
    }

    private func report(_ name: String, _ timings: [Double], note: String = "") {
        let sorted = timings.sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        print(String(format: "  %@: median %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms (%d queries)%@",
                     name, percentile(0.5), percentile(0.95), percentile(0.99), sorted.last ?? 0, sorted.count,
                     note.isEmpty ? "" : "; " + note))
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

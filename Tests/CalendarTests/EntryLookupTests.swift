import CalendarService
import Foundation
import Messaging
import Postgres
import Testing
import TestSupport

/// `entry_lookup` (migration 0002): lock, then check, then write, for events with and without
/// an entry. Two instances may hold one event for a moment (a rebalance hands its partition
/// over while the old owner still applies it); the second must see what the first wrote.
@Suite("Calendar entry lookup")
struct EntryLookupTests {
    @Test("a second lookup of a new event waits for the first writer, then sees its entry and reminder")
    func newEventIsLockedByKey() async throws {
        try await TestDatabase.withSchema("cal") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations + CalendarService.migrations()).apply(url: try TestDatabase.url())
            let event = UUID()
            let employee = UUID()
            let first = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: schema)
            try await first.execute("BEGIN")
            let before = try await first.query("SELECT found FROM entry_lookup(ARRAY[\(event)]::uuid[], '{}'::uuid[])")
            #expect(before.isEmpty, "no entry and no reminder yet")
            try await first.execute("""
                INSERT INTO entries (event_id, active, employee_id, state, starts_at, ends_at, version)
                VALUES (\(event), true, \(employee), 'planned', now() + interval '1 hour', now() + interval '2 hours', 1)
                """)
            try await first.execute("""
                INSERT INTO reminders (event_id, starts_at, employee_id, due_at, status)
                VALUES (\(event), now() + interval '1 hour', \(employee), now() + interval '45 minutes', 'scheduled')
                """)

            let finished = Finished()
            let second = Task {
                let found = try await pool.withTransaction { transaction in
                    try await transaction.query("SELECT found FROM entry_lookup(ARRAY[\(event)]::uuid[], '{}'::uuid[])")
                        .map { try $0.decode("found", as: String.self) }
                }
                await finished.mark()
                return found
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(await !finished.isMarked, "the second lookup waits for the first writer's key lock")
            try await first.execute("COMMIT")
            let seen = try await second.value
            #expect(seen.sorted() == ["entry", "reminder"])
            await first.close()
        }
    }
}

private actor Finished {
    private(set) var isMarked = false
    func mark() { isMarked = true }
}

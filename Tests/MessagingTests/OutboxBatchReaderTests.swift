import Foundation
import Kafka
@testable import Messaging
import Postgres
import Testing
import TestSupport

/// The relay's reads continue after the highest id handed out; these tests pin down what that
/// must not cost: rows that appear below the cursor (a transaction that committed late, a parked
/// row put back) still go out, even while the pipeline never runs empty.
@Suite("Outbox batch reader: cursor reads and full reads")
struct OutboxBatchReaderTests {
    @Test("a row that appears below the cursor is read within the full-read interval, under continuous load")
    func lateRowUnderLoad() async throws {
        try await TestDatabase.withSchema("reader") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await insertRows(ids: Array(100..<1_000), pool: pool)
            let lease = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: schema)
            var reader = OutboxBatchReader(batchSize: 10)
            var inFlight: [[Int64]] = []
            var delivered: [Int64] = []
            var seen: [Int64] = []
            var lateReadAt: Int?
            for read in 1...60 {
                let batch = try await reader.next(on: lease, excluding: inFlight.flatMap { $0 }, deleting: delivered)
                seen += batch.ids
                if batch.ids.contains(5) { lateReadAt = read }
                // Four batches stay in flight: the pipeline never runs empty.
                inFlight.append(batch.ids)
                delivered = inFlight.count > 4 ? inFlight.removeFirst() : []
                // Committed late: its id is below everything read so far.
                if read == 3 { try await insertRows(ids: [5], pool: pool) }
            }
            let lateRead = try #require(lateReadAt, "the late row was never read")
            #expect(lateRead <= 3 + OutboxBatchReader.fullReadInterval)
            #expect(Set(seen).count == seen.count, "no row was read twice")
            let others = seen.filter { $0 != 5 }
            #expect(others == others.sorted(), "rows above the cursor are read in id order")
            // Delivered rows were deleted by the reads that followed them; nothing else was.
            let deleted = Set(seen).subtracting(inFlight.flatMap { $0 } + delivered)
            let expected = Set(Array(100..<1_000) + [5]).subtracting(deleted)
            let left = try await pool.query("SELECT id FROM outbox").map { try $0.decode("id", as: Int64.self) }
            #expect(Set(left) == expected)
            await lease.close()
        }
    }

    @Test("the reads stay index scans when the statistics say the outbox is empty and it is not")
    func readsUseTheIndexesOnStaleStatistics() async throws {
        try await TestDatabase.withSchema("reader") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            // A churning outbox: rows came and went, and a vacuum that could not truncate the
            // table recorded pages without rows; then 2,000 rows arrive.
            try await pool.execute("ALTER TABLE outbox SET (vacuum_truncate = false)")
            try await insertRows(ids: Array(10_001...30_000), pool: pool)
            try await pool.execute("DELETE FROM outbox")
            try await pool.execute("VACUUM outbox")
            try await insertRows(ids: Array(1...2_000), pool: pool)
            let tuples = try await pool.query("SELECT reltuples::float8 AS n FROM pg_class WHERE oid = 'outbox'::regclass")
            #expect(try tuples[0].decode("n", as: Double.self) < 1, "the statistics say empty")

            let lease = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: schema)
            try await OutboxBatchReader.prepare(session: lease)
            var reader = OutboxBatchReader(batchSize: 100)
            let first = try await reader.next(on: lease, excluding: [], deleting: [])
            let second = try await reader.next(on: lease, excluding: first.ids, deleting: [])
            for (inFlight, delivered) in [(first.ids + second.ids, [Int64]()), (second.ids, first.ids), ([], first.ids)] {
                let (query, full) = reader.nextQuery(excluding: inFlight, deleting: delivered)
                var explain: PostgresQuery = "EXPLAIN "
                explain.append(query)
                let plan = try await lease.query(explain).map { try $0.decode("QUERY PLAN", as: String.self) }.joined(separator: "\n")
                let read = full ? "full read" : "cursor read"
                #expect(!plan.contains("Seq Scan"), "\(read):\n\(plan)")
                #expect(plan.contains("Index Scan using outbox_pkey on outbox o"), "\(read) walks the primary key:\n\(plan)")
                if !full {
                    #expect(plan.contains("using outbox_key on outbox e"), "the key probe:\n\(plan)")
                }
                if !delivered.isEmpty {
                    #expect(plan.contains("Index Scan using outbox_pkey on outbox  ("), "the delete by id:\n\(plan)")
                }
            }
            await lease.close()
        }
    }

    @Test("the relay's lease session plans with sequential and bitmap scans off")
    func leaseSessionSettings() async throws {
        try await TestDatabase.withSchema("reader") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            // Taking the lease needs no broker.
            let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:9"))
            let relay = OutboxRelay(outbox: Outbox(schema: schema), pool: pool, producer: producer)
            let lease = try #require(try await relay.acquireLeadership(), "the lease is free")
            let rows = try await lease.query(
                "SELECT current_setting('enable_seqscan') AS seq, current_setting('enable_bitmapscan') AS bitmap, current_setting('plan_cache_mode') AS plans")
            #expect(try rows[0].decode("seq", as: String.self) == "off")
            #expect(try rows[0].decode("bitmap", as: String.self) == "off")
            #expect(try rows[0].decode("plans", as: String.self) == "force_generic_plan")
            await lease.close()
            await producer.close(timeout: .seconds(1))
        }
    }

    @Test("a parked row holds back its own key only; a parked row without a key holds back its topic's rows without a key")
    func parkedRowsHoldBackTheirKey() async throws {
        try await TestDatabase.withSchema("reader") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await pool.execute("""
                INSERT INTO outbox (id, topic, message_key, payload) VALUES
                    (10, 'reader-test', 'parked-key', '{}'), (11, 'reader-test', 'free-key', '{}'),
                    (12, 'reader-test', NULL, '{}'), (13, 'other-topic', NULL, '{}'), (14, 'other-topic', 'parked-key', '{}')
                """)
            try await pool.execute("""
                INSERT INTO outbox_parked (id, topic, message_key, payload, created_at, error) VALUES
                    (1, 'reader-test', 'parked-key', '{}', now(), 'refused'), (2, 'reader-test', NULL, '{}', now(), 'refused')
                """)
            let lease = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: schema)
            try await OutboxBatchReader.prepare(session: lease)
            var reader = OutboxBatchReader(batchSize: 10)
            let full = try await reader.next(on: lease, excluding: [], deleting: [])
            #expect(full.ids == [11, 13, 14])
            // The cursor read applies the same rule to rows that arrive later.
            try await pool.execute("""
                INSERT INTO outbox (id, topic, message_key, payload) VALUES
                    (20, 'reader-test', 'parked-key', '{}'), (21, 'reader-test', NULL, '{}'), (22, 'reader-test', 'free-key-2', '{}')
                """)
            let cursor = try await reader.next(on: lease, excluding: full.ids, deleting: [])
            #expect(cursor.ids == [22])
            await lease.close()
        }
    }

    @Test("a key's newer row above the cursor waits for its late row below it: the key's rows go out in id order")
    func keyOrderAcrossTheCursor() async throws {
        try await TestDatabase.withSchema("reader") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await insertRows(ids: Array(100..<130), pool: pool)
            let lease = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: schema)
            var reader = OutboxBatchReader(batchSize: 10)
            var inFlight: [[Int64]] = []
            var delivered: [Int64] = []
            var order: [Int64] = []
            var next: Int64 = 1_000
            for read in 1...40 {
                let batch = try await reader.next(on: lease, excluding: inFlight.flatMap { $0 }, deleting: delivered)
                order += batch.ids
                inFlight.append(batch.ids)
                delivered = inFlight.count > 4 ? inFlight.removeFirst() : []
                // Continuous load: new rows of other keys at every read, so the pipeline stays full.
                try await insertRows(ids: Array(next..<next + 10), pool: pool)
                next += 10
                if read == 3 {
                    // Key K: a change that committed late (id 5, below the cursor), then the next
                    // change of K, which waited for its row lock (id 131, just above the cursor).
                    try await insertRows(ids: [5], key: "K", pool: pool)
                    try await insertRows(ids: [131], key: "K", pool: pool)
                }
            }
            let late = try #require(order.firstIndex(of: 5), "the late row was read")
            let newer = try #require(order.firstIndex(of: 131), "the newer row was read")
            #expect(late < newer, "K's rows went out in id order")
            #expect(Set(order).count == order.count, "no row was read twice")
            await lease.close()
        }
    }

    @Test("a read with nothing in flight starts from the lowest id, so a parked row put back goes out first")
    func fullReadWhenIdle() async throws {
        try await TestDatabase.withSchema("reader") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await insertRows(ids: [50, 51, 52], pool: pool)
            let lease = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: schema)
            var reader = OutboxBatchReader(batchSize: 10)
            #expect(try await reader.next(on: lease, excluding: [], deleting: []).ids == [50, 51, 52])
            try await insertRows(ids: [7, 60], pool: pool)
            #expect(try await reader.next(on: lease, excluding: [], deleting: [50, 51, 52]).ids == [7, 60])
            #expect(try await pool.query("SELECT id FROM outbox ORDER BY id").map { try $0.decode("id", as: Int64.self) } == [7, 60])
            await lease.close()
        }
    }
}

/// Rows with the given ids, each of its own key unless `key` is given.
private func insertRows(ids: [Int64], key: String? = nil, pool: PostgresPool) async throws {
    try await pool.execute("""
        INSERT INTO outbox (id, topic, message_key, payload, headers)
        SELECT i, 'reader-test', coalesce(\(key), 'k' || i), '{}', '{}'::jsonb FROM unnest(\(ids)::bigint[]) AS i
        """)
}

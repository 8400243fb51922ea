import Contracts
import Kafka
import Postgres

/// Reads the relay's batches in id order, on the lease session, and deletes the previous
/// batch's delivered rows in the same statement.
///
/// Most reads continue after the highest id this drain handed out (`id > cursor`), so a read
/// costs the same with 100 or 100,000 rows waiting. Ids come from a sequence when a row is
/// inserted, not when it commits, so a row can appear below the cursor: a transaction that
/// committed late, or a parked row an operator put back. A full read — from the lowest id,
/// leaving out the rows handed out — picks it up: the first read of every drain, every read
/// while nothing is in flight, and at least every ``fullReadInterval``-th read under continuous
/// load. Until then, a cursor read leaves out every row whose key has such a row below the
/// cursor (a later change of the same aggregate, which waited for the late one's row lock, or
/// the rows that waited behind a parked row that was put back or dropped): they go out after
/// it, in id order, with the full read. Rows without a key have no order to keep (Kafka spreads
/// them over partitions) and are not held back.
struct OutboxBatchReader {
    static let fullReadInterval = 16

    let batchSize: Int
    /// The highest id handed out in this drain.
    private var cursor: Int64 = 0
    private var readsSinceFullRead = 0

    init(batchSize: Int) {
        self.batchSize = batchSize
    }

    /// The next batch, leaving out the rows in flight and those whose key waits behind a parked
    /// row; deletes `delivered` (rows of a settled batch) in the same statement.
    ///
    /// The plan walks the primary key in id order and stops after one batch. `OFFSET 0` keeps
    /// the key checks per-row subplans: as a plain `NOT EXISTS` the planner turns the parked one into
    /// an anti-join over the whole outbox, then sorts it (19 ms a read at 20,000 rows waiting,
    /// growing with the backlog). The deleted rows are still visible to the read (a statement
    /// sees one snapshot), so the full read leaves them out by id and the cursor read by range.
    mutating func next(
        on lease: PostgresConnection, excluding inFlight: [Int64], deleting delivered: [Int64]
    ) async throws -> (ids: [Int64], records: [ProducerRecord]) {
        let (query, full) = nextQuery(excluding: inFlight, deleting: delivered)
        let rows = try await lease.query(query)
        readsSinceFullRead = full ? 0 : readsSinceFullRead + 1
        var ids: [Int64] = []
        var records: [ProducerRecord] = []
        ids.reserveCapacity(rows.count)
        records.reserveCapacity(rows.count)
        for row in rows {
            let id = try row.decode("id", as: Int64.self)
            ids.append(id)
            cursor = max(cursor, id)
            let headers = try row.decode("headers", as: PostgresJSON.self).crmDecode([String: String].self)
            records.append(ProducerRecord(
                topic: try row.decode("topic"), key: try row.decodeIfPresent("message_key", as: String.self),
                value: try row.decode("payload", as: String.self),
                headers: headers.sorted { $0.key < $1.key }.map { KafkaHeader(name: $0.key, string: $0.value) }))
        }
        return (ids, records)
    }

    /// Fixes the plans of the reads on the relay's session. An outbox is a queue: autovacuum
    /// sees it empty (pages, no rows), and a moment later it holds thousands of rows. On such
    /// statistics PostgreSQL planned sequential scans, or probed a key's older rows with
    /// `id <= cursor` on the primary key, walking every row below the cursor for each
    /// candidate: 19 ms a read at 1,000 calls/s, a third of the database's time. Every read
    /// here is meant to be an index scan: the primary key in id order, `outbox_key` for a key.
    static func prepare(session: PostgresConnection) async throws {
        try await session.execute("SET enable_seqscan = off")
        try await session.execute("SET enable_bitmapscan = off")
        // The reads are prepared (their planning had cost three to five times their run at
        // light load); with the scans fixed above, the generic plan is the one wanted.
        try await session.execute("SET plan_cache_mode = force_generic_plan")
    }

    /// The statement of the next read, and whether it is a full read.
    func nextQuery(excluding inFlight: [Int64], deleting delivered: [Int64]) -> (PostgresQuery, full: Bool) {
        let full = inFlight.isEmpty || readsSinceFullRead + 1 >= Self.fullReadInterval
        let handedOut = inFlight + delivered
        var query: PostgresQuery = "WITH settled AS (DELETE FROM outbox WHERE id = ANY(\(delivered))) "
        query.append("SELECT id, topic, message_key, payload, headers FROM outbox o WHERE ")
        if full {
            query.append("o.id <> ALL(\(handedOut))")
        } else {
            // Older rows of the key below the cursor, not handed out: this row waits for them.
            // `outbox_key (topic, message_key)` answers the probe; `e.id + 0` keeps the planner
            // off the primary key (see ``prepare(session:)``).
            query.append("""
                o.id > \(cursor) AND NOT EXISTS (
                    SELECT 1 FROM outbox e
                    WHERE e.topic = o.topic AND e.message_key = o.message_key
                      AND e.id + 0 <= \(cursor) AND e.id <> ALL(\(handedOut))
                    OFFSET 0)
                """)
        }
        // Two probes of `outbox_parked_key`, one for a key and one for no key, each an index
        // condition (an `OR` of both would need a bitmap scan, off on this session).
        query.append("""
             AND NOT EXISTS (
                SELECT 1 FROM outbox_parked p WHERE p.topic = o.topic AND p.message_key = o.message_key OFFSET 0)
             AND NOT (o.message_key IS NULL AND EXISTS (
                SELECT 1 FROM outbox_parked p WHERE p.topic = o.topic AND p.message_key IS NULL OFFSET 0))
            ORDER BY id LIMIT \(batchSize)
            """)
        return (query.preparedOnce(), full)
    }
}

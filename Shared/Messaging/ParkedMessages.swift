import Foundation
import Kafka
import Postgres

/// The `outbox_parked` table of one schema: messages the broker refused for good, kept with the
/// error so nothing is lost and nothing stalls. The relay parks outbox rows here, the consumer
/// runtime parks dead letters here, and an operator lists, retries or drops them
/// (`crm outbox parked`).
public struct ParkedMessages: Sendable {
    public struct Entry: Sendable, Codable, Equatable {
        public var id: Int64
        public var topic: String
        public var key: String?
        public var bytes: Int
        public var parkedAt: Date
        public var error: String
    }

    public init() {}

    /// Moves outbox row `id` here with the broker's error.
    public func park(outboxRow id: Int64, error: String, in transaction: PostgresTransaction) async throws {
        try await transaction.execute("""
            INSERT INTO outbox_parked (id, topic, message_key, payload, headers, created_at, error)
            SELECT id, topic, message_key, payload, headers, created_at, \(error) FROM outbox WHERE id = \(id)
            ON CONFLICT (id) DO NOTHING
            """)
        try await transaction.execute("DELETE FROM outbox WHERE id = \(id)")
    }

    /// Parks a message that never was an outbox row (a dead letter the broker refused).
    public func park(_ record: ProducerRecord, error: String, in transaction: PostgresTransaction) async throws {
        var headers: [String: String] = [:]
        for header in record.headers { headers[header.name] = header.stringValue ?? "" }
        try await transaction.execute("""
            INSERT INTO outbox_parked (id, topic, message_key, payload, headers, created_at, error)
            VALUES (nextval('outbox_id_seq'), \(record.topic), \(record.key.map { String(decoding: $0, as: UTF8.self) }),
                \(record.value.map { String(decoding: $0, as: UTF8.self) } ?? ""), \(try PostgresJSON(encoding: headers)), now(), \(error))
            """)
    }

    public func list(limit: Int = 100, in pool: PostgresPool) async throws -> [Entry] {
        try await pool.query("""
            SELECT id, topic, message_key, octet_length(payload) AS bytes, parked_at, error
            FROM outbox_parked ORDER BY id LIMIT \(limit)
            """).map { row in
            Entry(
                id: try row.decode("id"), topic: try row.decode("topic"), key: try row.decodeIfPresent("message_key"),
                bytes: try row.decode("bytes"), parkedAt: try row.decode("parked_at"), error: try row.decode("error"))
        }
    }

    /// Puts parked rows back into the outbox (the operator fixed the cause, e.g. created the
    /// topic or raised the broker's limit) with their original ids, so each goes out before the
    /// rows of its key that waited behind it: per-key order holds.
    @discardableResult
    public func retry(ids: [Int64]?, in pool: PostgresPool) async throws -> Int {
        try await pool.withTransaction { transaction in
            let moved = try await transaction.query("""
                WITH taken AS (
                    DELETE FROM outbox_parked WHERE \(ids == nil) OR id = ANY(\(ids ?? []))
                    RETURNING id, topic, message_key, payload, headers
                )
                INSERT INTO outbox (id, topic, message_key, payload, headers)
                SELECT id, topic, message_key, payload, headers FROM taken ORDER BY id
                RETURNING id
                """)
            if !moved.isEmpty { try await transaction.execute("SELECT pg_notify('crm_outbox_' || current_schema(), '')") }
            return moved.count
        }
    }

    /// Deletes parked rows for good; the key's waiting rows are released.
    @discardableResult
    public func drop(ids: [Int64]?, in pool: PostgresPool) async throws -> Int {
        let dropped = try await pool.execute("DELETE FROM outbox_parked WHERE \(ids == nil) OR id = ANY(\(ids ?? []))")
        if dropped > 0 { try await pool.execute("SELECT pg_notify('crm_outbox_' || current_schema(), '')") }
        return dropped
    }
}

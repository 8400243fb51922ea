import Contracts
import Foundation
import Postgres

/// The transactional outbox of one service schema: messages are written in the same transaction
/// as the state change they describe, and the relay publishes them afterwards. No dual writes.
public struct Outbox: Sendable {
    public let schema: String

    public init(schema: String) {
        self.schema = schema
    }

    /// The NOTIFY channel that wakes this schema's relay.
    public var channel: String { "crm_outbox_\(schema)" }

    /// The table every service schema gets; list it first among the service's migrations.
    public static let migration = Migration(name: "0000_outbox", sql: """
        CREATE TABLE outbox (
            id bigserial PRIMARY KEY,
            topic text NOT NULL,
            message_key text,
            payload text NOT NULL,
            headers jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now()
        );
        """)

    /// Enqueues a CloudEvent for `topic` with the given key, inside the caller's transaction.
    /// Call it after the change itself so that, for one aggregate, outbox order is commit order.
    public func enqueue<Payload>(
        _ event: CloudEvent<Payload>, topic: String, key: String, in transaction: PostgresTransaction
    ) async throws {
        let payload = String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self)
        let headers = [
            CloudEventHeaderName.type: event.type,
            CloudEventHeaderName.id: event.id,
            CloudEventHeaderName.contentType: CloudEvent<Payload>.contentType,
        ]
        try await enqueue(topic: topic, key: key, payload: payload, headers: headers, in: transaction)
    }

    /// Enqueues a raw message (already serialised) inside the caller's transaction.
    public func enqueue(
        topic: String, key: String?, payload: String, headers: [String: String] = [:],
        in transaction: PostgresTransaction
    ) async throws {
        let headerJSON = try PostgresJSON(encoding: headers)
        try await transaction.execute("""
            INSERT INTO outbox (topic, message_key, payload, headers)
            VALUES (\(topic), \(key), \(payload), \(headerJSON))
            """)
        // Delivered at commit, folded with the other notifications of the transaction.
        try await transaction.execute("SELECT pg_notify(\(channel), '')")
    }
}

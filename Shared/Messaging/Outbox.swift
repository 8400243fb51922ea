import Contracts
import Foundation
import Postgres

/// The transactional outbox of one service schema: messages are written in the same transaction
/// as the state change they describe, and the relay publishes them afterwards. No dual writes.
public struct Outbox: Sendable {
    public let schema: String
    /// The largest message (payload, key and headers) the producer may send: librdkafka's
    /// `message.max.bytes` (1,000,000 unless configured) less the record framing.
    public let maxMessageBytes: Int

    /// What librdkafka adds around key, value and headers in a record batch, with room to spare.
    public static let recordOverheadBytes = 1024

    public init(schema: String, producerMessageMaxBytes: Int = 1_000_000) {
        self.schema = schema
        maxMessageBytes = producerMessageMaxBytes - Self.recordOverheadBytes
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

    /// The outbox's tables, in order: list them first among a service's migrations.
    public static let migrations = [migration, parkedMigration, keyIndexMigration]

    /// Messages the broker refused for good (too large, unknown topic, not authorised), and dead
    /// letters it refused: kept with the error for an operator (`crm outbox parked`) to retry or
    /// drop. While a key has a parked row, its later outbox rows wait (per-key order).
    public static let parkedMigration = Migration(name: "0000_outbox_parked", sql: """
        CREATE TABLE outbox_parked (
            id bigint PRIMARY KEY,
            topic text NOT NULL,
            message_key text,
            payload text NOT NULL,
            headers jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL,
            parked_at timestamptz NOT NULL DEFAULT now(),
            error text NOT NULL
        );
        CREATE INDEX outbox_parked_key ON outbox_parked (topic, message_key);
        CREATE INDEX outbox_topic_key ON outbox (topic, message_key, id);
        """)

    /// The relay's probe for a key's older rows (``OutboxBatchReader``), without `id` in the
    /// index: with it, stale statistics let the planner use this index for id ranges and id
    /// lists too, walking every key's entries where the primary key answers directly. Named to
    /// sort after `0000_outbox_parked`, which made the first index.
    public static let keyIndexMigration = Migration(name: "0000_outbox_reindex_key", sql: """
        DROP INDEX outbox_topic_key;
        CREATE INDEX outbox_key ON outbox (topic, message_key);
        """)

    /// Enqueues a CloudEvent for `topic` with the given key, inside the caller's transaction.
    /// Call it after the change itself so that, for one aggregate, outbox order is commit order.
    /// Throws ``OutboxMessageTooLarge`` (a 422 over HTTP) when the message could never be sent.
    public func enqueue<Payload>(
        _ event: CloudEvent<Payload>, topic: String, key: String, in transaction: PostgresTransaction
    ) async throws {
        try await enqueue([OutboxMessage(event, topic: topic, key: key)], in: transaction)
    }

    /// Enqueues a raw message (already serialised) inside the caller's transaction.
    public func enqueue(
        topic: String, key: String?, payload: String, headers: [String: String] = [:],
        in transaction: PostgresTransaction
    ) async throws {
        try await enqueue([OutboxMessage(topic: topic, key: key, payload: payload, headers: headers)], in: transaction)
    }

    /// Enqueues messages in this order with one multi-row insert (per statement-sized chunk),
    /// the last one also notifying: a set-based handler writes a whole batch's messages this way.
    public func enqueue(_ messages: [OutboxMessage], in transaction: PostgresTransaction) async throws {
        guard !messages.isEmpty else { return }
        // Checked when the row is written, not when it is relayed: a row the broker must refuse
        // would otherwise be accepted with a 2xx and then parked.
        for message in messages where message.size > maxMessageBytes {
            throw OutboxMessageTooLarge(topic: message.topic, bytes: message.size, limit: maxMessageBytes)
        }
        let rows = try messages.map { message -> [(any PostgresEncodable)?] in
            [message.topic, message.key, message.payload, try PostgresJSON(crmEncoding: message.headers)]
        }
        // Ids come from a sequence in statement order, so the relay publishes in this order.
        // Nothing reads the inserts' results: they go out with the transaction's next statement
        // or its commit, on one trip to the connection.
        let chunks = PostgresQuery.statementChunks(rows, width: 4)
        for (index, chunk) in chunks.enumerated() {
            let insert = PostgresQuery.withValues("INSERT INTO outbox (topic, message_key, payload, headers) VALUES", Array(chunk))
            guard index == chunks.count - 1 else {
                try transaction.executeLater(insert)
                continue
            }
            // The notification rides on the last insert (a data-modifying WITH runs once, to
            // its end): one statement fewer per transaction. Delivered at commit, folded with
            // the other notifications of the transaction.
            var statement: PostgresQuery = "WITH queued AS ("
            statement.append(insert)
            statement.append(") SELECT pg_notify(\(channel), '')")
            try transaction.executeLater(statement)
        }
    }
}

/// One message for the outbox: topic, key, serialised payload and headers.
public struct OutboxMessage: Sendable {
    public var topic: String
    public var key: String?
    public var payload: String
    public var headers: [String: String]

    public init(topic: String, key: String?, payload: String, headers: [String: String] = [:]) {
        self.topic = topic
        self.key = key
        self.payload = payload
        self.headers = headers
    }

    /// A CloudEvent in the JSON form and with the `ce_*` headers every topic carries.
    public init<Payload>(_ event: CloudEvent<Payload>, topic: String, key: String) throws {
        self.init(
            topic: topic, key: key, payload: try CRMJSONEncoder().encodeText(event),
            headers: [
                CloudEventHeaderName.type: event.type,
                CloudEventHeaderName.id: event.id,
                CloudEventHeaderName.contentType: CloudEvent<Payload>.contentType,
            ])
    }

    /// What the producer sends besides the record framing.
    var size: Int {
        payload.utf8.count + (key?.utf8.count ?? 0) + headers.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
    }
}

/// A message larger than the producer may send; the change that would emit it is refused.
public struct OutboxMessageTooLarge: Error, Sendable, CustomStringConvertible {
    public let topic: String
    public let bytes: Int
    public let limit: Int

    public var description: String {
        "the message for \(topic) would be \(bytes) bytes, more than the limit of \(limit)"
    }
}

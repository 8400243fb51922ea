import Kafka
import Postgres

/// A handler that applies a whole poll batch with set-based statements (a few round trips per
/// batch instead of several per message), in two steps:
///
/// 1. `decode` reads one message into a small value without the database. Bad input throws
///    (a ``PermanentFailure`` with a clear reason): that message goes to the dead-letter topic
///    and the rest of the batch is applied without it.
/// 2. `apply` writes all decoded values of the batch in the batch transaction. The values come
///    in batch order (offset order within each partition), so "the first of a key" and "the
///    newest version of a key" mean what they would one message at a time.
///
/// When `apply` fails, the runtime rolls back and takes the per-message path: `handle` (by
/// default `apply` with one value) in a savepoint per message, which isolates a message that
/// fails only in the database, retries it and dead-letters it if it keeps failing.
public protocol BatchMessageHandler: MessageHandler {
    associatedtype Decoded: Sendable

    func decode(_ message: KafkaMessage) throws -> Decoded

    func apply(_ batch: [Decoded], in transaction: PostgresTransaction) async throws
}

extension BatchMessageHandler {
    /// One message is a batch of one: the per-message path runs the same code as the batch path.
    public func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        try await apply([try decode(message)], in: transaction)
    }
}

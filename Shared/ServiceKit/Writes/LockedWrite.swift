import Postgres

/// The one write path of every store (DESIGN rule 8): **lock, then check, then write**.
///
/// ```swift
/// let current = try await LockedWrite.lock(
///     "event", id: id, ifMatch: ifMatch, version: \.version,
///     load: { try await store.get(id, in: transaction, lock: true) },   // SELECT … FOR UPDATE
///     authorize: { event in guard mayModify(event) else { throw Problem.forbidden(…) } })
/// // … check the state, write the rows, enqueue the snapshot on the outbox …
/// ```
///
/// - The aggregate row is locked first (`FOR UPDATE` in `load`), so the version compared with
///   `If-Match` and the state the checks see cannot change before the write: of N concurrent
///   requests with the same `If-Match`, exactly one passes.
/// - Several aggregates in one transaction are locked in this order, everywhere: the catalog
///   object (or the event/order) first, then its attribute values, then anything the change
///   derives; within one table, by id. A path that needs a row of a later kind never locks an
///   earlier one after it. Opposite orders are what deadlocks are made of.
/// - Deadlocks and serialization failures that still happen (e.g. unique-index waits) are
///   retried by `PostgresPool.withTransaction`, so the whole body runs again from the lock.
public enum LockedWrite {
    /// Locks the aggregate through `load` (which must `SELECT … FOR UPDATE`), answers 404 when
    /// it does not exist, 412 when `If-Match` names another version, then runs `authorize` (which
    /// throws 403 for the caller or 409 for the state) and returns the locked aggregate.
    public static func lock<Aggregate: Sendable>(
        _ noun: String, id: any CustomStringConvertible, ifMatch: IfMatch?, version: (Aggregate) -> Int,
        load: () async throws -> Aggregate?,
        authorize: (Aggregate) throws -> Void = { _ in }
    ) async throws -> Aggregate {
        guard let current = try await load() else {
            throw Problem.notFound("No \(noun) with id \(id.description.lowercased()).")
        }
        let currentVersion = version(current)
        if let ifMatch, !ifMatch.matches(version: currentVersion) {
            throw Problem.preconditionFailed("The \(noun) is at version \(currentVersion).")
        }
        try authorize(current)
        return current
    }
}

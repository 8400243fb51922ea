/// A transaction on one connection. Statements run in order; `savepoint` gives a part of the
/// work its own rollback so one failing piece does not abort the rest.
///
/// A trip to the connection's queue and back costs two thread hand-offs, which at a light load
/// are most of a service's CPU, so statements share trips where they can: `BEGIN` goes out with
/// the first statement (a body that runs nothing costs nothing), and statements whose results
/// nobody reads (``executeLater(_:)``: outbox rows, inserts) go out with the next statement or
/// the `COMMIT`.
public final class PostgresTransaction: @unchecked Sendable {
    // Used by one task at a time (the transaction body), so these need no lock.
    let connection: PostgresConnection
    private var savepointCounter = 0
    /// Whether `BEGIN` went out.
    private var begun = false
    /// Statements to send before the next one (``executeLater(_:)``).
    private var later: [PostgresQuery] = []

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    static func run<T: Sendable>(
        on connection: PostgresConnection, _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        let transaction = PostgresTransaction(connection: connection)
        do {
            let value = try await body(transaction)
            if transaction.begun || !transaction.later.isEmpty { try await transaction.run("COMMIT") }
            return value
        } catch {
            // A lost connection rolls back on the server by itself; ignore a failing ROLLBACK.
            if transaction.begun { _ = try? await connection.execute("ROLLBACK") }
            throw error
        }
    }

    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await run(query).rows
    }

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query).affectedRows
    }

    /// Runs `query` with the transaction's next statement (or its `COMMIT`), on the same trip to
    /// the connection's queue, in order. For statements whose result nobody reads: an error
    /// is thrown by that next statement (or the commit), and the transaction rolls back as
    /// for any failed statement. A savepoint that rolls back drops those queued inside it.
    public func executeLater(_ query: PostgresQuery) throws {
        try PostgresConnection.refuseNULCharacters(in: [query])
        later.append(query)
    }

    /// Sends the statements queued by ``executeLater(_:)`` now, on one trip (nothing if none
    /// are queued): where a failure must be told apart from what comes next.
    public func flush() async throws {
        guard !later.isEmpty else { return }
        var prelude = takePrelude()
        let last = prelude.removeLast()
        _ = try await connection.run(last, after: prelude)
    }

    /// Runs SQL text with several statements and no parameters (migrations) in the transaction.
    public func executeScript(_ sql: String) async throws {
        try await connection.executeScript(sql, after: takePrelude())
    }

    private func run(_ query: PostgresQuery) async throws -> PostgresResult {
        // Refused before anything is taken off the queue, so that nothing queued is lost with it.
        // (A statement cancelled before it is sent fails its transaction anyway.)
        try PostgresConnection.refuseNULCharacters(in: [query])
        return try await connection.run(query, after: takePrelude())
    }

    /// What goes out before the next statement: `BEGIN` the first time, then the queued
    /// statements. Marked as sent before it runs: if a statement fails after `BEGIN`, the
    /// rollback must follow.
    private func takePrelude() -> [PostgresQuery] {
        var prelude: [PostgresQuery] = begun ? [] : ["BEGIN"]
        begun = true
        prelude += later
        later = []
        return prelude
    }

    /// Runs `body` inside a savepoint: its effects are undone if it throws, and the
    /// transaction stays usable.
    @discardableResult
    public func savepoint<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        savepointCounter += 1
        let name = "sp_\(savepointCounter)"
        try await execute("SAVEPOINT \(unescaped: name)")
        do {
            let value = try await body(self)
            // Sends what the body queued: its errors are the body's.
            try await execute("RELEASE SAVEPOINT \(unescaped: name)")
            return value
        } catch {
            if case PostgresError.connectionLost = error { throw error }
            later = []
            try await connection.execute("ROLLBACK TO SAVEPOINT \(unescaped: name)")
            throw error
        }
    }
}

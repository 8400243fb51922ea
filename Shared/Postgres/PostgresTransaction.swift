/// A transaction on one connection. Statements run in order; `savepoint` gives a part of the
/// work its own rollback so one failing piece does not abort the rest.
///
/// `BEGIN` is not a round trip of its own: it goes to the server with the first statement, on
/// the same turn of the connection's queue, and a body that runs no statement costs nothing.
public final class PostgresTransaction: @unchecked Sendable {
    // Used by one task at a time (the transaction body), so these need no lock.
    let connection: PostgresConnection
    private var savepointCounter = 0
    /// Whether `BEGIN` went out (with the first statement).
    private var begun = false

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    static func run<T: Sendable>(
        on connection: PostgresConnection, _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        let transaction = PostgresTransaction(connection: connection)
        do {
            let value = try await body(transaction)
            if transaction.begun { try await connection.execute("COMMIT") }
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

    /// Runs SQL text with several statements and no parameters (migrations) in the transaction.
    public func executeScript(_ sql: String) async throws {
        let opening = !begun
        begun = true
        try await connection.executeScript(sql, beginningTransaction: opening)
    }

    private func run(_ query: PostgresQuery) async throws -> PostgresResult {
        // Marked before it runs: if the statement fails after BEGIN, the rollback must follow.
        let opening = !begun
        begun = true
        return try await connection.run(query, beginningTransaction: opening)
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
            try await connection.execute("RELEASE SAVEPOINT \(unescaped: name)")
            return value
        } catch {
            if case PostgresError.connectionLost = error { throw error }
            try await connection.execute("ROLLBACK TO SAVEPOINT \(unescaped: name)")
            throw error
        }
    }
}

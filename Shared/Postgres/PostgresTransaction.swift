/// A transaction on one connection. Statements run in order; `savepoint` gives a part of the
/// work its own rollback so one failing piece does not abort the rest.
public final class PostgresTransaction: @unchecked Sendable {
    // Used by one task at a time (the transaction body), so the counter needs no lock.
    public let connection: PostgresConnection
    private var savepointCounter = 0

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    static func run<T: Sendable>(
        on connection: PostgresConnection, _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        try await connection.execute("BEGIN")
        let transaction = PostgresTransaction(connection: connection)
        do {
            let value = try await body(transaction)
            try await connection.execute("COMMIT")
            return value
        } catch {
            // A lost connection rolls back on the server by itself; ignore a failing ROLLBACK.
            _ = try? await connection.execute("ROLLBACK")
            throw error
        }
    }

    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query)
    }

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await connection.execute(query)
    }

    /// Runs `body` inside a savepoint: its effects are undone if it throws, and the
    /// transaction stays usable.
    @discardableResult
    public func savepoint<T: Sendable>(_ body: (PostgresTransaction) async throws -> T) async throws -> T {
        savepointCounter += 1
        let name = "sp_\(savepointCounter)"
        try await connection.execute("SAVEPOINT \(unescaped: name)")
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

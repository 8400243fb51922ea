import Postgres
import Testing
import TestSupport

/// `PostgresQuery.preparedOnce()`: prepared once per connection, then run by name.
@Suite("Prepared statements")
struct PreparedStatementTests {
    @Test("a prepared statement is prepared once per connection and runs with each run's values")
    func preparedOncePerConnection() async throws {
        let connection = try await PostgresConnection.connect(url: try TestDatabase.url())
        for value in [1, 41, -7] {
            let query: PostgresQuery = "SELECT \(value)::int + 1 AS n"
            let rows = try await connection.query(query.preparedOnce())
            #expect(try rows[0].decode("n", as: Int.self) == value + 1)
        }
        let prepared = try await connection.query("SELECT count(*)::int AS n FROM pg_prepared_statements")
        #expect(try prepared[0].decode("n", as: Int.self) == 1, "one text, one prepared statement")
        await connection.close()
    }

    @Test("a statement that cannot be prepared fails like an unprepared one, and a failed transaction does not lose the prepared ones")
    func failuresAndTransactions() async throws {
        let connection = try await PostgresConnection.connect(url: try TestDatabase.url())
        let bad: PostgresQuery = "SELECT FROM no_such_table_\(unescaped: "x") WHERE \(1) = 1"
        await #expect(throws: PostgresError.self) { try await connection.query(bad.preparedOnce()) }

        try await connection.execute("BEGIN")
        let good: PostgresQuery = "SELECT \(5)::int * 2 AS n"
        #expect(try await connection.query(good.preparedOnce())[0].decode("n", as: Int.self) == 10)
        await #expect(throws: PostgresError.self) { try await connection.query("SELECT 1 / \(0)") }
        // The transaction is aborted: nothing runs, prepared or not, until it ends.
        await #expect(throws: PostgresError.self) { try await connection.query(good.preparedOnce()) }
        try await connection.execute("ROLLBACK")
        // Prepared statements outlive the transaction that prepared them.
        #expect(try await connection.query(good.preparedOnce())[0].decode("n", as: Int.self) == 10)
        let prepared = try await connection.query("SELECT count(*)::int AS n FROM pg_prepared_statements")
        #expect(try prepared[0].decode("n", as: Int.self) == 1)
        await connection.close()
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres transactions")
struct TransactionTests {
    struct Boom: Error {}

    @Test("a rolled-back transaction leaves nothing")
    func rollbackLeavesNothing() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE items (name text)")
            await #expect(throws: Boom.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.execute("INSERT INTO items VALUES (\("first"))")
                    try await transaction.execute("INSERT INTO items VALUES (\("second"))")
                    throw Boom()
                }
            }
            #expect(try await pool.query("SELECT * FROM items").isEmpty)
        }
    }

    @Test("a failing savepoint keeps the rest of the transaction")
    func failingSavepointKeepsTheRest() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)")
            try await pool.withTransaction { transaction in
                try await transaction.execute("INSERT INTO items VALUES (\("kept"))")
                // A server-side error inside the savepoint: the transaction would be aborted without it.
                await #expect(throws: PostgresError.self) {
                    try await transaction.savepoint { inner in
                        try await inner.execute("INSERT INTO items VALUES (\("undone"))")
                        try await inner.execute("INSERT INTO items VALUES (\("kept"))")
                    }
                }
                await #expect(throws: Boom.self) {
                    try await transaction.savepoint { inner in
                        try await inner.execute("INSERT INTO items VALUES (\("also undone"))")
                        throw Boom()
                    }
                }
                try await transaction.savepoint { inner in
                    try await inner.execute("INSERT INTO items VALUES (\("after"))")
                }
            }
            let names = try await pool.query("SELECT name FROM items ORDER BY name").map { try $0.decode("name", as: String.self) }
            #expect(names == ["after", "kept"])
        }
    }

    @Test("LISTEN receives a NOTIFY sent at commit")
    func listenReceivesNotify() async throws {
        let url = try TestDatabase.url()
        let channel = TestDatabase.uniqueSchema("ch")
        let events = PostgresListener.listen(url: url, channels: [channel])
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .connected)
        let pool = PostgresPool(.init(url: url))
        try await pool.withTransaction { transaction in
            try await transaction.execute("SELECT pg_notify(\(channel), \("hello"))")
        }
        #expect(await iterator.next() == .notification(channel: channel, payload: "hello"))
        await pool.close()
    }

    @Test("the pool bounds its connections and times out instead of hanging")
    func poolIsBounded() async throws {
        let pool = PostgresPool(.init(url: try TestDatabase.url(), maxConnections: 1, acquireTimeout: .milliseconds(300)))
        let holder = Task {
            try await pool.withConnection { connection in
                try await connection.execute("SELECT pg_sleep(1.5)")
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        await #expect(throws: PostgresError.self) {
            try await pool.query("SELECT 1")
        }
        _ = try await holder.value
        #expect(try await pool.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        await pool.close()
    }
}

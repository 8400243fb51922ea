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

    @Test("BEGIN goes out with the first statement: every statement, the first included, is in the one transaction")
    func firstStatementIsInsideTheTransaction() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)")
            let ids = try await pool.withTransaction { transaction in
                // Outside a transaction block each of these would be a transaction of its own.
                let first = try await transaction.query("SELECT pg_current_xact_id()::text AS id")[0].decode("id", as: String.self)
                let second = try await transaction.query("SELECT pg_current_xact_id()::text AS id")[0].decode("id", as: String.self)
                return [first, second]
            }
            #expect(ids[0] == ids[1])
            // The first statement fails: the transaction is rolled back and the connection is
            // usable again (a failure inside a block left open would poison the next caller).
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.execute("INSERT INTO missing_table VALUES (1)")
                }
            }
            // A savepoint as the first statement opens the transaction too.
            try await pool.withTransaction { transaction in
                await #expect(throws: Boom.self) {
                    try await transaction.savepoint { inner in
                        try await inner.execute("INSERT INTO items VALUES (\("undone"))")
                        throw Boom()
                    }
                }
                try await transaction.execute("INSERT INTO items VALUES (\("kept"))")
            }
            let names = try await pool.query("SELECT name FROM items").map { try $0.decode("name", as: String.self) }
            #expect(names == ["kept"])
        }
    }

    @Test("statements run later go out in order with the next statement, or with the commit")
    func executeLaterRunsWithTheNextStatement() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE items (position serial, name text)")
            let seen = try await pool.withTransaction { transaction in
                try transaction.executeLater("INSERT INTO items (name) VALUES (\("first"))")
                try transaction.executeLater("INSERT INTO items (name) VALUES (\("second"))")
                let rows = try await transaction.query("SELECT name FROM items ORDER BY position")
                // Only with the commit: nothing reads it in the transaction.
                try transaction.executeLater("INSERT INTO items (name) VALUES (\("third"))")
                return try rows.map { try $0.decode("name", as: String.self) }
            }
            #expect(seen == ["first", "second"])
            let names = try await pool.query("SELECT name FROM items ORDER BY position").map { try $0.decode("name", as: String.self) }
            #expect(names == ["first", "second", "third"])
        }
    }

    @Test("a statement run later that fails fails the next statement (or the commit) and rolls the transaction back")
    func executeLaterFailureRollsBack() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)")
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.execute("INSERT INTO items VALUES (\("before"))")
                    try transaction.executeLater("INSERT INTO items VALUES (\("before"))")
                    try await transaction.execute("INSERT INTO items VALUES (\("after"))")
                }
            }
            await #expect(throws: PostgresError.self) {
                try await pool.withTransaction { transaction in
                    try await transaction.execute("INSERT INTO items VALUES (\("alone"))")
                    try transaction.executeLater("INSERT INTO items VALUES (\("alone"))")
                }
            }
            #expect(try await pool.query("SELECT name FROM items").isEmpty)
            // A NUL is refused when the statement is queued, like any statement's.
            try await pool.withTransaction { transaction in
                #expect(throws: PostgresError.self) { try transaction.executeLater("INSERT INTO items VALUES (\("a\u{0}b"))") }
            }
        }
    }

    @Test("a savepoint that rolls back drops the statements run later inside it, not those queued before")
    func executeLaterInsideASavepoint() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE items (name text PRIMARY KEY)")
            try await pool.withTransaction { transaction in
                try transaction.executeLater("INSERT INTO items VALUES (\("queued before"))")
                await #expect(throws: Boom.self) {
                    try await transaction.savepoint { inner in
                        try inner.executeLater("INSERT INTO items VALUES (\("undone"))")
                        throw Boom()
                    }
                }
                // Queued inside, failing when the savepoint is released: undone, the rest kept.
                await #expect(throws: PostgresError.self) {
                    try await transaction.savepoint { inner in
                        try inner.executeLater("INSERT INTO items VALUES (\("queued before"))")
                    }
                }
                try await transaction.savepoint { inner in
                    try inner.executeLater("INSERT INTO items VALUES (\("kept"))")
                }
            }
            let names = try await pool.query("SELECT name FROM items ORDER BY name").map { try $0.decode("name", as: String.self) }
            #expect(names == ["kept", "queued before"])
        }
    }

    @Test("a transaction whose body runs no statement returns its value and leaves the connection idle")
    func emptyTransaction() async throws {
        let pool = PostgresPool(.init(url: try TestDatabase.url(), maxConnections: 1))
        let value = try await pool.withTransaction { _ in 42 }
        #expect(value == 42)
        // The one connection is reused: it must not be left inside a transaction block, where
        // a savepoint would be accepted.
        await #expect(throws: PostgresError.self) { try await pool.execute("SAVEPOINT probe") }
        await pool.close()
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

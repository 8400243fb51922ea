import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres conflicts, deadlines and cancellation")
struct ConflictRetryTests {
    /// Two transactions lock rows a and b in opposite orders; both wait at a barrier after their
    /// first lock, so the server must break the deadlock by aborting one of them (40P01).
    @Test("a deadlock between two transactions is retried, and both succeed")
    func deadlockIsRetried() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE accounts (id text PRIMARY KEY, balance int NOT NULL)")
            try await pool.execute("INSERT INTO accounts VALUES ('a', 0), ('b', 0)")
            let barrier = Barrier(parties: 2)
            let attempts = AttemptCounter()
            func transfer(first: String, second: String) async throws {
                try await pool.withTransaction { transaction in
                    let attempt = attempts.next()
                    try await transaction.execute("UPDATE accounts SET balance = balance + 1 WHERE id = \(first)")
                    // Only the first two attempts meet at the barrier: that is the injected deadlock.
                    if attempt <= 2 { await barrier.arrive() }
                    try await transaction.execute("UPDATE accounts SET balance = balance + 1 WHERE id = \(second)")
                }
            }
            async let one: Void = transfer(first: "a", second: "b")
            async let two: Void = transfer(first: "b", second: "a")
            _ = try await (one, two)
            let balances = try await pool.query("SELECT balance FROM accounts ORDER BY id").map { try $0.decode("balance", as: Int.self) }
            #expect(balances == [2, 2], "both transfers committed exactly once")
            #expect(attempts.value >= 3, "one transaction ran again after the deadlock")
        }
    }

    @Test("every pooled session has statement_timeout and lock_timeout; an overrun is a transient error")
    func sessionLimits() async throws {
        let pool = PostgresPool(.init(
            url: try TestDatabase.url(), maxConnections: 1,
            session: SessionLimits(statementTimeoutMilliseconds: 300, lockTimeoutMilliseconds: 250)))
        let settings = try await pool.query("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l")
        #expect(try settings[0].decode("s", as: String.self) == "300ms")
        #expect(try settings[0].decode("l", as: String.self) == "250ms")
        do {
            try await pool.execute("SELECT pg_sleep(2)")
            Issue.record("pg_sleep(2) should have hit the statement timeout")
        } catch let error as PostgresError {
            #expect(error.sqlState == "57014")
            #expect(error.isTransient)
        }
        await pool.close()
    }

    @Test("cancelling the awaiting task cancels the statement on the server")
    func cancellationCancelsTheQuery() async throws {
        let pool = PostgresPool(.init(url: try TestDatabase.url(), maxConnections: 1))
        let started = ContinuousClock.now
        let task = Task { try await pool.execute("SELECT pg_sleep(20) -- cancellation test") }
        // Cancelled once the server runs it (a loaded machine may take longer than a fixed pause
        // to connect, and a statement cancelled before it is sent is never sent at all).
        let observer = PostgresPool(.init(url: try TestDatabase.url(), maxConnections: 1))
        _ = await eventually(timeout: .seconds(8), interval: .milliseconds(20)) {
            let rows = try? await observer.query(
                "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%cancellation test' AND state = 'active' AND pid <> pg_backend_pid()")
            return rows?.isEmpty == false
        }
        await observer.close()
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - started < .seconds(10), "the statement stopped long before 20 s")
        if case .failure(let error as PostgresError) = result {
            #expect(error.sqlState == "57014", "\(error)")
        } else {
            Issue.record("expected a cancelled statement, got \(result)")
        }
        // The connection is usable afterwards.
        #expect(try await pool.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)
        await pool.close()
    }
}

/// Lets `parties` tasks wait for each other once.
private actor Barrier {
    private let parties: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) { self.parties = parties }

    func arrive() async {
        if waiting.count + 1 == parties {
            waiting.forEach { $0.resume() }
            waiting.removeAll()
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

private final class AttemptCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func next() -> Int { lock.withLock { count += 1; return count } }
}

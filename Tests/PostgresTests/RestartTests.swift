import Foundation
import Postgres
import Testing
import TestSupport

/// Runs against a second, private server (`CRM_TEST_RESTARTABLE_DATABASE_URL`) so restarting it
/// does not disturb the tests running in parallel on the main one.
@Suite("Postgres pool across a server restart")
struct RestartTests {
    @Test("the pool fails in-flight calls clearly and recovers after a restart")
    func poolRecoversAfterRestart() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["CRM_TEST_RESTARTABLE_DATABASE_URL"], let restart = environment["CRM_TEST_PG_RESTART"] else {
            throw MissingTestEnvironment(
                "CRM_TEST_RESTARTABLE_DATABASE_URL and CRM_TEST_PG_RESTART are not set: run the tests with `deploy/local/test`")
        }
        let pool = PostgresPool(.init(url: url, maxConnections: 3, acquireTimeout: .seconds(5)))
        #expect(try await pool.query("SELECT 1 AS one")[0].decode("one", as: Int.self) == 1)

        // A statement in flight while the server goes down fails with connectionLost, it does not hang.
        let inFlight = Task { try await pool.query("SELECT pg_sleep(20)") }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await runShellCommand(restart) == 0, "restart command failed: \(restart)")
        do {
            _ = try await inFlight.value
            Issue.record("the in-flight statement should have failed")
        } catch let error as PostgresError {
            guard case .connectionLost = error else {
                Issue.record("expected connectionLost, got \(error)")
                return
            }
        }

        // Afterwards the pool opens fresh connections; idle ones the server closed are dropped.
        let recovered = await eventually(timeout: .seconds(30)) {
            (try? await pool.query("SELECT 1 AS one")) != nil
        }
        #expect(recovered)
        for _ in 0..<5 {
            #expect(try await pool.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2)
        }
        await pool.close()
    }
}

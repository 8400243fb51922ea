import Foundation
import Hummingbird
import Postgres
import ServiceKit
import Synchronization
import Testing
import TestSupport

@Suite("Idempotent creation")
struct IdempotentRequestsTests {
    struct Created: Codable { var id: Int }

    private func prepare(_ pool: PostgresPool) async throws {
        try await pool.withConnection { try await $0.executeScript(IdempotentRequests.migration.sql) }
        try await pool.execute("CREATE TABLE things (id serial PRIMARY KEY)")
    }

    private func create(_ pool: PostgresPool, key: String?, fingerprint: String = "POST /things {}") async throws -> Response {
        let principal = Principal(subject: "u1", roles: [.manager])
        return try await IdempotentRequests().run(
            key: try key.map { try IdempotencyKey($0) }, principal: principal, fingerprint: fingerprint, pool: pool
        ) { transaction in
            let id = try await transaction.query("INSERT INTO things DEFAULT VALUES RETURNING id")[0].decode("id", as: Int.self)
            return try .init(status: .created, json: Created(id: id), version: 1)
        }
    }

    @Test("a repeated key replays the first response and creates nothing")
    func repeatReplays() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await prepare(pool)
            let first = try await create(pool, key: "k-1")
            let second = try await create(pool, key: "k-1")
            #expect(first.status == .created)
            #expect(second.status == .created)
            #expect(second.headers[.eTag] == "\"1\"")
            #expect(try await pool.query("SELECT count(*) AS n FROM things")[0].decode("n", as: Int.self) == 1)
            _ = try await create(pool, key: nil)
            _ = try await create(pool, key: nil)
            #expect(try await pool.query("SELECT count(*) AS n FROM things")[0].decode("n", as: Int.self) == 3)
        }
    }

    @Test("racing repeats create once")
    func racingRepeatsCreateOnce() async throws {
        try await TestDatabase.withSchema(maxConnections: 8) { pool, _ in
            try await prepare(pool)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 { group.addTask { _ = try await create(pool, key: "race") } }
                try await group.waitForAll()
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM things")[0].decode("n", as: Int.self) == 1)
        }
    }

    @Test("a key reused for a different request is a 422")
    func reuseForDifferentRequest() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await prepare(pool)
            _ = try await create(pool, key: "k-2", fingerprint: "POST /things {\"a\":1}")
            do {
                _ = try await create(pool, key: "k-2", fingerprint: "POST /things {\"a\":2}")
                Issue.record("reuse with another body should fail")
            } catch let problem as Problem {
                #expect(problem.status == .unprocessableContent)
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM things")[0].decode("n", as: Int.self) == 1)
        }
    }
}

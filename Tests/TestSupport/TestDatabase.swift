import Foundation
import Postgres

/// The PostgreSQL server the tests use, started by `deploy/local/test`.
public enum TestDatabase {
    /// `CRM_TEST_DATABASE_URL`; tests fail at once without it rather than skip silently.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CRM_TEST_DATABASE_URL"], !url.isEmpty else {
            throw MissingTestEnvironment(
                "CRM_TEST_DATABASE_URL is not set: run the tests with `deploy/local/test`, which starts a throw-away PostgreSQL")
        }
        return url
    }

    /// A fresh schema name, unique per test, so tests can run in parallel.
    public static func uniqueSchema(_ prefix: String = "t") -> String {
        "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
    }

    /// Creates a schema, hands a pool whose search path is that schema to `body`, then drops it.
    public static func withSchema<T: Sendable>(
        _ prefix: String = "t", maxConnections: Int = 4,
        _ body: (_ pool: PostgresPool, _ schema: String) async throws -> T
    ) async throws -> T {
        let url = try url()
        let schema = uniqueSchema(prefix)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: maxConnections))
        try await pool.execute("CREATE SCHEMA \(identifier: schema)")
        do {
            let value = try await body(pool, schema)
            try await dropSchema(schema, pool: pool)
            return value
        } catch {
            try? await dropSchema(schema, pool: pool)
            throw error
        }
    }

    private static func dropSchema(_ schema: String, pool: PostgresPool) async throws {
        try await pool.execute("DROP SCHEMA IF EXISTS \(identifier: schema) CASCADE")
        await pool.close()
    }
}

public struct MissingTestEnvironment: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

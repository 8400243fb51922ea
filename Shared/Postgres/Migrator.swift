import Foundation
import Logging

/// One schema change: a SQL script applied once, recorded by name.
public struct Migration: Sendable, Equatable {
    public let name: String
    public let sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }

    /// Reads the `*.sql` files of a directory (e.g. a target's `Bundle.module` resources), ordered
    /// by file name, so `0001_…`, `0002_…` apply in that order.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        return try files.map {
            Migration(name: $0.deletingPathExtension().lastPathComponent, sql: try String(contentsOf: $0, encoding: .utf8))
        }
    }
}

/// Applies a schema's migrations in name order, each once, each in its own transaction, recorded
/// in `<schema>.schema_migrations`. An advisory lock serialises instances that start together,
/// so the second one waits and then finds everything applied.
public struct Migrator: Sendable {
    public let schema: String
    public let migrations: [Migration]
    private let logger: Logger

    public init(schema: String, migrations: [Migration], logger: Logger = Logger(label: "crm.migrations")) {
        self.schema = schema
        self.migrations = migrations.sorted { $0.name < $1.name }
        self.logger = logger
    }

    /// Returns the names of the migrations this call applied.
    @discardableResult
    public func apply(url: String) async throws -> [String] {
        // Scripts use unqualified names; the search path puts them into the schema.
        let connection = try await PostgresConnection.connect(
            url: url, searchPath: schema, applicationName: "crm-migrator", session: .unlimited)
        // One lock for the whole database, not per schema: migrations may create extensions,
        // which are database-wide, and they are quick enough to run one at a time.
        let lockKey = "crm.migrations"
        try await connection.execute("SELECT pg_advisory_lock(hashtext(\(lockKey)))")
        do {
            let applied = try await applyPending(on: connection)
            try await connection.execute("SELECT pg_advisory_unlock(hashtext(\(lockKey)))")
            await connection.close()
            return applied
        } catch {
            // Closing the session releases the lock too.
            await connection.close()
            throw error
        }
    }

    private func applyPending(on connection: PostgresConnection) async throws -> [String] {
        try await connection.execute("CREATE SCHEMA IF NOT EXISTS \(identifier: schema)")
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS \(identifier: schema).schema_migrations (
                name text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now())
            """)
        let done = Set(try await connection.query("SELECT name FROM \(identifier: schema).schema_migrations")
            .map { try $0.decode("name", as: String.self) })
        var applied: [String] = []
        for migration in migrations where !done.contains(migration.name) {
            try await PostgresTransaction.run(on: connection) { transaction in
                try await transaction.executeScript(migration.sql)
                try await transaction.execute(
                    "INSERT INTO \(identifier: schema).schema_migrations (name) VALUES (\(migration.name))")
            }
            logger.info("applied migration", metadata: ["schema": "\(schema)", "migration": "\(migration.name)"])
            applied.append(migration.name)
        }
        return applied
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Migrations")
struct MigratorTests {
    // Plain CREATE TABLE fails when run twice, so a double application cannot hide.
    let migrations = [
        Migration(name: "0001_people", sql: "CREATE TABLE people (id uuid PRIMARY KEY, name text NOT NULL);"),
        Migration(name: "0002_people_index", sql: "CREATE INDEX people_name ON people (name); SELECT pg_sleep(0.2);"),
        Migration(name: "0003_notes", sql: "CREATE TABLE notes (body text);"),
    ]

    @Test("two runners starting together apply each migration once")
    func concurrentRunnersApplyOnce() async throws {
        let url = try TestDatabase.url()
        let schema = TestDatabase.uniqueSchema("mig")
        let first = Migrator(schema: schema, migrations: migrations)
        let second = Migrator(schema: schema, migrations: migrations)
        async let a = first.apply(url: url)
        async let b = second.apply(url: url)
        let (appliedA, appliedB) = try await (a, b)
        #expect((appliedA + appliedB).sorted() == migrations.map(\.name))

        let pool = PostgresPool(.init(url: url, searchPath: schema))
        let recorded = try await pool.query("SELECT name FROM schema_migrations ORDER BY name").map { try $0.decode("name", as: String.self) }
        #expect(recorded == migrations.map(\.name))
        // A later start applies nothing.
        #expect(try await Migrator(schema: schema, migrations: migrations).apply(url: url).isEmpty)
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }

    @Test("a failing migration is not recorded and stops the run")
    func failingMigrationIsNotRecorded() async throws {
        let url = try TestDatabase.url()
        let schema = TestDatabase.uniqueSchema("mig")
        let broken = [
            Migration(name: "0001_ok", sql: "CREATE TABLE ok (id int);"),
            Migration(name: "0002_broken", sql: "CREATE TABLE half (id int); SELECT no_such_function();"),
        ]
        await #expect(throws: PostgresError.self) { try await Migrator(schema: schema, migrations: broken).apply(url: url) }
        let pool = PostgresPool(.init(url: url, searchPath: schema))
        let recorded = try await pool.query("SELECT name FROM schema_migrations").map { try $0.decode("name", as: String.self) }
        #expect(recorded == ["0001_ok"])
        #expect(try await pool.query("SELECT to_regclass('half') AS t")[0]["t"] == nil)
        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
    }
}

import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Postgres binds and decoding")
struct BindTypeTests {
    @Test("every bind type round-trips through a real table")
    func everyTypeRoundTrips() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("""
                CREATE TABLE samples (
                    s text, i bigint, i64 bigint, d double precision, b boolean, u uuid, t timestamptz,
                    n numeric, j jsonb, tags text[], ids uuid[], numbers bigint[], blob bytea, missing text)
                """)
            let id = UUID()
            let time = Date(timeIntervalSince1970: 1_796_000_000.123456)
            let amount = Decimal(string: "1250.05")!
            let json = try PostgresJSON(encoding: ["vip": true])
            let tags = ["plain", "with, comma", "with \"quote\"", "{brace}", "back\\slash", "NULL", ""]
            let ids = [UUID(), UUID()]
            let blob = Data([0, 1, 2, 254, 255])
            let missing: String? = nil
            try await pool.execute("""
                INSERT INTO samples VALUES (\("Grüße 'quoted'"), \(42), \(Int64.max), \(3.25), \(true), \(id), \(time),
                    \(amount), \(json), \(tags), \(ids), \([1, 2, 3]), \(blob), \(missing))
                """)

            let row = try #require(try await pool.query("SELECT * FROM samples").first)
            #expect(try row.decode("s", as: String.self) == "Grüße 'quoted'")
            #expect(try row.decode("i", as: Int.self) == 42)
            #expect(try row.decode("i64", as: Int64.self) == Int64.max)
            #expect(try row.decode("d", as: Double.self) == 3.25)
            #expect(try row.decode("b", as: Bool.self) == true)
            #expect(try row.decode("u", as: UUID.self) == id)
            let decodedTime = try row.decode("t", as: Date.self)
            #expect(abs(decodedTime.timeIntervalSince1970 - time.timeIntervalSince1970) < 0.000_001)
            #expect(try row.decode("n", as: Decimal.self) == amount)
            #expect(try row.decode("j", as: PostgresJSON.self).decode([String: Bool].self) == ["vip": true])
            #expect(try row.decode("tags", as: [String].self) == tags)
            #expect(try row.decode("ids", as: [UUID].self) == ids)
            #expect(try row.decode("numbers", as: [Int].self) == [1, 2, 3])
            #expect(try row.decode("blob", as: Data.self) == blob)
            #expect(try row.decodeIfPresent("missing", as: String.self) == nil)
        }
    }

    @Test("many parameters of every length, empty and NULL side by side, arrive intact (one buffer holds them all)")
    func parametersSideBySide() async throws {
        try await TestDatabase.withSchema { pool, _ in
            var values: [String?] = ["", nil, "a", "Grüße ✓", String(repeating: "x", count: 100_000), "", nil]
            values += (0..<300).map { $0 % 7 == 0 ? nil : String(repeating: "é", count: $0) }
            var query = PostgresQuery(sql: "SELECT ")
            for (index, value) in values.enumerated() {
                query.append(index == 0 ? "\(value)::text AS v\(unescaped: String(index))" : ", \(value)::text AS v\(unescaped: String(index))")
            }
            let row = try #require(try await pool.query(query).first)
            for (index, value) in values.enumerated() {
                #expect(try row.decodeIfPresent("v\(index)", as: String.self) == value, "parameter \(index)")
            }
        }
    }

    @Test("timestamps are written as the server reads them, to the microsecond, before 1970 and after 9999 too")
    func timestampsMatchTheServer() async throws {
        try await TestDatabase.withSchema { pool, _ in
            let instants: [(Double, String)] = [
                (0, "1970-01-01 00:00:00+00"),
                (-1.5, "1969-12-31 23:59:58.5+00"),
                (951_782_400.000_001, "2000-02-29 00:00:00.000001+00"),
                (1_796_000_000.123_456, "2026-11-30 00:53:20.123456+00"),
                (1_796_000_000.999_999_7, "2026-11-30 00:53:21+00"),
                (253_402_300_799.5, "9999-12-31 23:59:59.5+00"),
                (-62_135_596_800, "0001-01-01 00:00:00+00"),
                (253_402_300_800, "10000-01-01 00:00:00+00"),
            ]
            for (seconds, expected) in instants {
                let date = Date(timeIntervalSince1970: seconds)
                let row = try #require(try await pool.query("""
                    SELECT \(date)::timestamptz = \(expected)::timestamptz AS same, \(date)::timestamptz::text AS read
                    """).first)
                let read = try row.decode("read", as: String.self)
                #expect(try row.decode("same", as: Bool.self), "\(seconds) was read as \(read)")
            }
        }
    }

    @Test("interpolated values are parameters, never SQL")
    func interpolationIsNotInjection() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE names (name text)")
            let hostile = "x'); DROP TABLE names; --"
            try await pool.execute("INSERT INTO names VALUES (\(hostile))")
            let rows = try await pool.query("SELECT name FROM names WHERE name = \(hostile)")
            #expect(rows.count == 1)
            #expect(try rows[0].decode("name", as: String.self) == hostile)
        }
    }

    @Test("NULL into a non-optional and bad text fail with the column named")
    func decodingErrorsNameTheColumn() async throws {
        try await TestDatabase.withSchema { pool, _ in
            let row = try #require(try await pool.query("SELECT NULL::text AS empty, 'abc' AS word").first)
            #expect(throws: PostgresError.self) { try row.decode("empty", as: String.self) }
            do {
                _ = try row.decode("word", as: Int.self)
                Issue.record("decoding text as Int should fail")
            } catch let error as PostgresError {
                #expect("\(error)".contains("word"))
            }
        }
    }

    @Test("server errors carry the SQLSTATE")
    func serverErrorsCarrySQLState() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE keys (k text PRIMARY KEY)")
            try await pool.execute("INSERT INTO keys VALUES (\("a"))")
            do {
                try await pool.execute("INSERT INTO keys VALUES (\("a"))")
                Issue.record("a duplicate key should fail")
            } catch let error as PostgresError {
                #expect(error.isUniqueViolation)
            }
            // The connection that saw the error is still usable.
            #expect(try await pool.query("SELECT count(*) AS n FROM keys")[0].decode("n", as: Int.self) == 1)
        }
    }
}

@Suite("NUL in parameters")
struct NULParameterTests {
    @Test("a parameter with a NUL character is refused (22021), never stored cut short")
    func nulIsRefused() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.execute("CREATE TABLE names (name text)")
            do {
                try await pool.execute("INSERT INTO names VALUES (\("Bolt\u{0}X"))")
                Issue.record("the NUL should have been refused")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22021")
                #expect(!error.isTransient)
            }
            #expect(try await pool.query("SELECT 1 FROM names").isEmpty)
        }
    }
}

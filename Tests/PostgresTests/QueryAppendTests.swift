import Postgres
import Testing
import TestSupport

/// `PostgresQuery.append`: the appended fragment's parameters follow the query's own.
@Suite("Query append")
struct QueryAppendTests {
    @Test("an appended fragment's parameters are renumbered after the query's, two-digit ones included")
    func renumbersAfterTheQuery() {
        var query: PostgresQuery = "SELECT \(1), \(2)"
        let values = Array(1...11)
        let fragment: PostgresQuery = " WHERE a = \(values[0]) AND b IN (\(values[1]), \(values[2]), \(values[3]), \(values[4]), \(values[5]), \(values[6]), \(values[7]), \(values[8]), \(values[9])) AND c = \(values[10])"
        query.append(fragment)
        #expect(query.sql == "SELECT $1, $2 WHERE a = $3 AND b IN ($4, $5, $6, $7, $8, $9, $10, $11, $12) AND c = $13")
        #expect(query.binds.compactMap { $0 } == ["1", "2"] + values.map(String.init))
    }

    @Test("dollar quotes and numbers beyond the fragment's parameters are left as written")
    func leavesOtherDollarsAlone() {
        var query: PostgresQuery = "SELECT \("x")"
        query.append("; DO $$ BEGIN PERFORM \("y"), '$2', $tag$ $x $tag$; END $$")
        #expect(query.sql == "SELECT $1; DO $$ BEGIN PERFORM $2, '$2', $tag$ $x $tag$; END $$")
        #expect(query.binds.compactMap { $0 } == ["x", "y"])
    }

    @Test("appending to a query without parameters, or a fragment without any, keeps the text")
    func withoutParameters() {
        var query: PostgresQuery = "SELECT 1"
        query.append(" + \(2)")
        query.append(" + 3")
        #expect(query.sql == "SELECT 1 + $1 + 3")
        #expect(query.binds.compactMap { $0 } == ["2"])
    }

    @Test("the renumbered statement runs with its values")
    func runs() async throws {
        let connection = try await PostgresConnection.connect(url: try TestDatabase.url())
        var query: PostgresQuery = "SELECT \(40)::int"
        for value in 1...11 { query.append(" + \(value)::int") }
        query.append(" AS n")
        let rows = try await connection.query(query)
        #expect(try rows[0].decode("n", as: Int.self) == 40 + 66)
        await connection.close()
    }
}

/// Many rows in one statement: a multi-row `VALUES` list whose every value is a parameter.
/// Set-based handlers write a whole batch with one round trip per table this way.
extension PostgresQuery {
    /// PostgreSQL's limit of parameters in one statement (the protocol counts them in 16 bits).
    public static let maxParameters = 65_535

    /// `($1, $2), ($3, $4), …` for `rows` (all of the same width). In an `INSERT … VALUES` the
    /// server coerces each parameter to its target column's type, like a single-row insert.
    public static func valuesList(_ rows: [[(any PostgresEncodable)?]]) -> PostgresQuery {
        var sql = ""
        var binds: [String?] = []
        binds.reserveCapacity(rows.reduce(0) { $0 + $1.count })
        sql.reserveCapacity(binds.capacity * 7)
        for (rowIndex, row) in rows.enumerated() {
            sql += rowIndex == 0 ? "(" : ", ("
            for (columnIndex, value) in row.enumerated() {
                binds.append(value?.postgresText)
                sql += columnIndex == 0 ? "$\(binds.count)" : ", $\(binds.count)"
            }
            sql += ")"
        }
        return PostgresQuery(sql: sql, binds: binds)
    }

    /// `rows` cut into runs that each fit one statement's parameter limit, `width` values a row.
    public static func statementChunks<Row>(_ rows: [Row], width: Int) -> [ArraySlice<Row>] {
        let perStatement = max(1, maxParameters / max(1, width))
        return stride(from: 0, to: rows.count, by: perStatement).map { rows[$0..<min($0 + perStatement, rows.count)] }
    }

    /// A statement made of `prefix`, a values list and `suffix` (trusted SQL chosen by code).
    public static func withValues(_ prefix: String, _ rows: [[(any PostgresEncodable)?]], _ suffix: String = "") -> PostgresQuery {
        let values = valuesList(rows)
        return PostgresQuery(sql: prefix + " " + values.sql + (suffix.isEmpty ? "" : " " + suffix), binds: values.binds)
    }
}

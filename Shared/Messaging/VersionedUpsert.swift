import Postgres

/// Applies a snapshot only if it is newer than the stored one: consumers stay idempotent and
/// order-safe when messages repeat or arrive out of order.
public enum VersionedUpsert {
    /// Inserts the row, or updates it when the stored `version` is older. Returns false when the
    /// stored row was as new or newer (nothing changed). `table` and column names come from code.
    @discardableResult
    public static func apply(
        table: String, key: [String], columns: [(name: String, value: (any PostgresEncodable)?)],
        versionColumn: String = "version", in transaction: PostgresTransaction
    ) async throws -> Bool {
        let names = columns.map(\.name)
        precondition(names.contains(versionColumn), "a versioned upsert needs the \(versionColumn) column")
        let quotedTable = table.split(separator: ".").map { PostgresQuery.quoteIdentifier(String($0)) }.joined(separator: ".")
        let placeholders = (1...columns.count).map { "$\($0)" }.joined(separator: ", ")
        let updates = names.filter { !key.contains($0) }
            .map { "\(PostgresQuery.quoteIdentifier($0)) = EXCLUDED.\(PostgresQuery.quoteIdentifier($0))" }
            .joined(separator: ", ")
        let sql = """
            INSERT INTO \(quotedTable) (\(names.map(PostgresQuery.quoteIdentifier).joined(separator: ", ")))
            VALUES (\(placeholders))
            ON CONFLICT (\(key.map(PostgresQuery.quoteIdentifier).joined(separator: ", ")))
            DO UPDATE SET \(updates)
            WHERE \(quotedTable).\(PostgresQuery.quoteIdentifier(versionColumn)) < EXCLUDED.\(PostgresQuery.quoteIdentifier(versionColumn))
            """
        let affected = try await transaction.execute(PostgresQuery(sql: sql, binds: columns.map { $0.value?.postgresText }))
        return affected == 1
    }
}

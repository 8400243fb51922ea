import Postgres

/// Applies a snapshot only if it is newer than the stored one: consumers stay idempotent and
/// order-safe when messages repeat or arrive out of order.
public enum VersionedUpsert {
    public typealias Columns = [(name: String, value: (any PostgresEncodable)?)]

    /// Inserts the row, or updates it when the stored `version` is older. Returns false when the
    /// stored row was as new or newer (nothing changed). `table` and column names come from code.
    @discardableResult
    public static func apply(
        table: String, key: [String], columns: Columns, versionColumn: String = "version", in transaction: PostgresTransaction
    ) async throws -> Bool {
        try await apply(table: table, key: key, rows: [columns], versionColumn: versionColumn, in: transaction).isEmpty == false
    }

    /// The batch form: every row in one multi-row upsert per statement-sized chunk. Rows of one
    /// key are reduced to the newest first (the first of equal versions, as applying them one by
    /// one would keep), because one statement may not touch a row twice. Returns the indices of
    /// `rows` that were written. Every row names the same columns in the same order; key values
    /// must print as PostgreSQL prints them (text, UUIDs, integers), as they are matched by text.
    @discardableResult
    public static func apply(
        table: String, key: [String], rows: [Columns], versionColumn: String = "version", in transaction: PostgresTransaction
    ) async throws -> [Int] {
        var written: [Int] = []
        for (query, chunk) in statements(table: table, key: key, rows: rows, versionColumn: versionColumn, returningKeys: true) {
            let returned = try await transaction.query(query)
            let writtenKeys = Set(try returned.map { row in try key.indices.map { try row.decodeIfPresent("k\($0)", as: String.self) } })
            written += chunk.filter { writtenKeys.contains($0.key) }.map(\.index)
        }
        return written.sorted()
    }

    /// `apply` for a projection that does not ask which rows were written: the statements are
    /// queued (``PostgresTransaction/executeLater(_:)``) and go out with the transaction's next
    /// statement or its commit, on one trip to the connection.
    public static func applyLater(
        table: String, key: [String], rows: [Columns], versionColumn: String = "version", in transaction: PostgresTransaction
    ) throws {
        for (query, _) in statements(table: table, key: key, rows: rows, versionColumn: versionColumn, returningKeys: false) {
            try transaction.executeLater(query)
        }
    }

    /// The upserts of `rows`, one per statement-sized chunk of the newest row per key.
    private static func statements(
        table: String, key: [String], rows: [Columns], versionColumn: String, returningKeys: Bool
    ) -> [(PostgresQuery, [(key: [String?], index: Int)])] {
        guard let first = rows.first else { return [] }
        let names = first.map(\.name)
        guard let versionIndex = names.firstIndex(of: versionColumn) else {
            preconditionFailure("a versioned upsert needs the \(versionColumn) column")
        }
        let keyIndices = key.map { name in
            guard let index = names.firstIndex(of: name) else { preconditionFailure("the key column \(name) is missing") }
            return index
        }
        precondition(rows.allSatisfy { $0.map(\.name) == names }, "every row of a batch upsert names the same columns")

        let newest = newestPerKey(rows, keyIndices: keyIndices, versionIndex: versionIndex)
        let quotedTable = table.split(separator: ".").map { PostgresQuery.quoteIdentifier(String($0)) }.joined(separator: ".")
        let quotedVersion = PostgresQuery.quoteIdentifier(versionColumn)
        let updates = names.filter { !key.contains($0) }
            .map { "\(PostgresQuery.quoteIdentifier($0)) = EXCLUDED.\(PostgresQuery.quoteIdentifier($0))" }
            .joined(separator: ", ")
        let prefix = "INSERT INTO \(quotedTable) (\(names.map(PostgresQuery.quoteIdentifier).joined(separator: ", "))) VALUES"
        var suffix = """
            ON CONFLICT (\(key.map(PostgresQuery.quoteIdentifier).joined(separator: ", ")))
            DO UPDATE SET \(updates)
            WHERE \(quotedTable).\(quotedVersion) < EXCLUDED.\(quotedVersion)
            """
        if returningKeys {
            suffix += "\nRETURNING " + key.enumerated().map { "\(PostgresQuery.quoteIdentifier($1))::text AS k\($0)" }.joined(separator: ", ")
        }
        return PostgresQuery.statementChunks(newest, width: names.count).map { chunk in
            (PostgresQuery.withValues(prefix, chunk.map { rows[$0.index].map(\.value) }, suffix), Array(chunk))
        }
    }

    /// For each key, the row to apply: the highest version, the first among equals; in the
    /// order the keys first appear.
    private static func newestPerKey(_ rows: [Columns], keyIndices: [Int], versionIndex: Int) -> [(key: [String?], index: Int)] {
        func version(_ row: Columns) -> Int64 { row[versionIndex].value.flatMap { Int64($0.postgresText) } ?? .min }
        var chosen: [[String?]: Int] = [:]
        var order: [[String?]] = []
        for (index, row) in rows.enumerated() {
            let key = keyIndices.map { row[$0].value?.postgresText }
            if let current = chosen[key] {
                if version(row) > version(rows[current]) { chosen[key] = index }
            } else {
                chosen[key] = index
                order.append(key)
            }
        }
        return order.map { (key: $0, index: chosen[$0]!) }
    }
}

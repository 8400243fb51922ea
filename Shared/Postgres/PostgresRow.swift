/// One result row in text format, decoded on demand into Swift types.
public struct PostgresRow: Sendable {
    public let columns: PostgresColumns
    public let values: [String?]

    public subscript(column: String) -> String? {
        guard let index = columns.index(of: column) else { return nil }
        return values[index]
    }

    /// Decodes a non-NULL column; throws a clear error for NULL, a missing column or bad text.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError.decoding(column: column, type: "\(T.self)", value: nil)
        }
        return value
    }

    /// Decodes a column that may be NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let index = columns.index(of: column) else {
            throw PostgresError.decoding(column: column, type: "\(T.self) (no such column)", value: nil)
        }
        guard let text = values[index] else { return nil }
        do {
            return try T(postgresText: text)
        } catch {
            throw PostgresError.decoding(column: column, type: "\(T.self)", value: text)
        }
    }
}

/// Column names of a result, shared by all its rows.
public final class PostgresColumns: Sendable {
    public let names: [String]
    private let positions: [String: Int]

    init(names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    func index(of name: String) -> Int? { positions[name] }
}

/// What a statement returned: its rows and the number of rows it affected.
public struct PostgresResult: Sendable {
    public let rows: [PostgresRow]
    public let affectedRows: Int
}

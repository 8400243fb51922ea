/// A statement with its parameters. Values written into the string by interpolation become
/// `$1, $2, …` parameters, never SQL text:
///
///     try await connection.query("SELECT name FROM counterparties WHERE id = \(id)")
///
/// Trusted SQL fragments (identifiers from code, never from input) use `\(unescaped:)` or
/// `\(identifier:)`.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation {
    public private(set) var sql: String
    public private(set) var binds: [String?]
    /// Prepared once per connection and run by name from then on (``preparedOnce()``).
    public private(set) var prepared = false

    public init(sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.init(sql: value)
    }

    public init(stringInterpolation: Interpolation) {
        self.init(sql: stringInterpolation.sql, binds: stringInterpolation.binds)
    }

    /// This statement, prepared once per connection (`PQprepare`) and run by name from then on
    /// (`PQexecPrepared`), so its parsing and planning are not repeated on every run. For hot
    /// statements whose text is fixed (values as parameters, arrays as one parameter): each
    /// distinct text stays prepared for the connection's life. The server decides between a
    /// custom and the generic plan as for any prepared statement (`plan_cache_mode`). Mind that
    /// a generic plan made while a table was small can stay a sequential scan as it grows: the
    /// outbox relay uses this on a session whose planner settings rule that out; crm-events'
    /// call-id lookup, tried with it as a plain statement, got such a plan (0.84 ms a run instead
    /// of 0.03), and now runs in a PL/pgSQL function whose statements carry those settings.
    public func preparedOnce() -> PostgresQuery {
        var copy = self
        copy.prepared = true
        return copy
    }

    /// Appends another query, renumbering its parameters (`$n` of `other` for n up to its
    /// parameter count becomes `$(n + binds.count)`), in one pass over its text.
    public mutating func append(_ other: PostgresQuery) {
        guard !binds.isEmpty, !other.binds.isEmpty else {
            sql += other.sql
            binds += other.binds
            return
        }
        let offset = binds.count
        let text = Array(other.sql.utf8)
        var renumbered: [UInt8] = []
        renumbered.reserveCapacity(text.count + other.binds.count * 2)
        var index = 0
        while index < text.count {
            let byte = text[index]
            index += 1
            renumbered.append(byte)
            guard byte == UInt8(ascii: "$") else { continue }
            var end = index
            var number = 0
            while end < text.count, end - index < 9, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[end]) {
                number = number * 10 + Int(text[end] - UInt8(ascii: "0"))
                end += 1
            }
            // Other `$` (dollar quotes, digits beyond the parameters) stay as written.
            guard end > index, end == text.count || !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(text[end]),
                  (1...other.binds.count).contains(number) else { continue }
            renumbered.append(contentsOf: String(number + offset).utf8)
            index = end
        }
        sql += String(decoding: renumbered, as: UTF8.self)
        binds += other.binds
    }

    public struct Interpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            binds.append(value?.postgresText)
            sql += "$\(binds.count)"
        }

        /// Inserts trusted SQL text as is. Only for fragments chosen by code.
        public mutating func appendInterpolation(unescaped fragment: String) { sql += fragment }

        /// Inserts a double-quoted identifier (schema, table or column chosen by code).
        public mutating func appendInterpolation(identifier: String) {
            sql += PostgresQuery.quoteIdentifier(identifier)
        }
    }

    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

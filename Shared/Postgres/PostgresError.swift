/// Everything the Postgres layer can fail with. Messages are meant for logs and operators:
/// they say what happened and, where it helps, what to do.
public enum PostgresError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached or refused the connection.
    case connectionFailed(String)
    /// The connection broke while a statement was in flight (server restart, network loss).
    /// The statement may or may not have been applied; the pool discards the connection.
    case connectionLost(String)
    /// The server rejected the statement.
    case server(sqlState: String, message: String, detail: String?)
    /// A column could not be decoded into the requested Swift type.
    case decoding(column: String, type: String, value: String?)
    /// No connection became free within the pool's acquire timeout.
    case poolTimeout(seconds: Double)
    /// The pool was shut down.
    case poolClosed

    public var description: String {
        switch self {
        case .connectionFailed(let message): "PostgreSQL connection failed: \(message)"
        case .connectionLost(let message): "PostgreSQL connection lost: \(message)"
        case .server(let state, let message, let detail):
            "PostgreSQL error \(state): \(message)" + (detail.map { " (\($0))" } ?? "")
        case .decoding(let column, let type, let value):
            "cannot decode column '\(column)' as \(type) from \(value.map { "'\($0)'" } ?? "NULL")"
        case .poolTimeout(let seconds): "no PostgreSQL connection became free within \(seconds) s"
        case .poolClosed: "the PostgreSQL pool is closed"
        }
    }

    /// SQLSTATE of a server error, e.g. `23505` for a unique violation.
    public var sqlState: String? {
        if case .server(let state, _, _) = self { return state }
        return nil
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// A deadlock (40P01) or a serialization failure (40001): the transaction lost a race and
    /// succeeds when run again from the start.
    public var isConcurrencyConflict: Bool { sqlState == "40P01" || sqlState == "40001" }

    /// Not the fault of the work being done and likely gone soon: a lost or refused connection,
    /// a conflict, a lock or statement timeout (55P03, 57014), an exhausted pool, a server
    /// shutting down (57P01–57P03). Retried with back-off; never a reason to dead-letter a message.
    public var isTransient: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .poolTimeout: return true
        case .server(let state, _, _):
            return ["40P01", "40001", "55P03", "57014", "57P01", "57P02", "57P03", "53300"].contains(state)
                || state.hasPrefix("08")
        case .decoding, .poolClosed: return false
        }
    }
}

extension Error {
    /// True for a `PostgresError` that `isTransient` calls transient.
    public var isTransientDatabaseError: Bool { (self as? PostgresError)?.isTransient ?? false }
}

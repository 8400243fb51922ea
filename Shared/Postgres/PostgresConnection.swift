import CLibPQ
import Dispatch
import Foundation

/// One libpq connection. Every `PQ*` call runs on the connection's own serial dispatch queue,
/// never on Swift's cooperative pool, because libpq blocks while it waits for the server.
/// Statements on one connection run one after another (callers await each).
public final class PostgresConnection: @unchecked Sendable {
    // `handle`, `broken` and `preparedNames` are only touched on `queue`.
    private var handle: OpaquePointer?
    private var broken = false
    /// The statements prepared on this connection (``PostgresQuery/preparedOnce()``): text → name.
    private var preparedNames: [String: String] = [:]
    /// Bounds `preparedNames`; beyond it statements run unprepared.
    static let maxPreparedStatements = 256
    /// libpq's cancel object, made at connect time: `PQcancel` on it is thread-safe, so a
    /// cancelled task can stop its statement from any thread.
    private let cancelHandle: OpaquePointer?
    /// Which statement runs now, so a cancel meant for one never hits the next.
    fileprivate let statements = StatementTracker()
    private let queue: DispatchQueue
    public let id: Int

    private static let counter = Counter()

    private init(handle: OpaquePointer, queue: DispatchQueue, id: Int) {
        self.handle = handle
        self.queue = queue
        self.id = id
        cancelHandle = PQgetCancel(handle)
    }

    deinit {
        if let handle { PQfinish(handle) }
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// Opens a connection. `url` is a libpq connection string or `postgresql://` URI.
    /// Sessions run in UTC with ISO dates so text results have a single timestamp format;
    /// `searchPath` makes a service's own schema the default for unqualified names.
    /// `session` bounds every statement and lock wait of the session (DESIGN rule 9).
    public static func connect(
        url: String, searchPath: String? = nil, applicationName: String = "crm", session: SessionLimits = SessionLimits()
    ) async throws -> PostgresConnection {
        let id = counter.next()
        let queue = DispatchQueue(label: "crm.postgres.connection.\(id)")
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                var options = "-c TimeZone=UTC -c DateStyle=ISO -c extra_float_digits=3"
                if let searchPath { options += " -c search_path=\(searchPath.replacingOccurrences(of: " ", with: ""))" }
                options += session.options
                // Defaults first: the URL (expanded from `dbname`) overrides them.
                let parameters: [(String, String)] = [
                    ("connect_timeout", "5"),
                    ("keepalives", "1"),
                    ("keepalives_idle", String(session.keepaliveIdleSeconds)),
                    ("keepalives_interval", "5"),
                    ("keepalives_count", "3"),
                    ("application_name", applicationName),
                    ("options", options),
                    ("dbname", url),
                ]
                let handle = withCStringArray(parameters.map(\.0)) { keys in
                    withCStringArray(parameters.map(\.1)) { values in
                        PQconnectdbParams(keys, values, 1)
                    }
                }
                guard let handle else {
                    continuation.resume(throwing: PostgresError.connectionFailed("out of memory"))
                    return
                }
                guard PQstatus(handle) == CONNECTION_OK else {
                    let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
                    PQfinish(handle)
                    continuation.resume(throwing: PostgresError.connectionFailed(message))
                    return
                }
                continuation.resume(returning: PostgresConnection(handle: handle, queue: queue, id: id))
            }
        }
    }

    /// Runs a parameterised statement and returns its rows.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await run(query).rows
    }

    /// Runs a parameterised statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query).affectedRows
    }

    /// Runs SQL text with several statements and no parameters (migrations, fixed DDL).
    public func executeScript(_ sql: String) async throws {
        try await executeScript(sql, after: [])
    }

    /// `executeScript`, after `prelude` on the same turn of the queue (see `run(_:after:)`,
    /// whose callers check the prelude too).
    func executeScript(_ sql: String, after prelude: [PostgresQuery]) async throws {
        try await onQueue { handle in
            for statement in prelude { _ = try self.execute(statement, handle: handle) }
            let result = PQexec(handle, sql)
            defer { PQclear(result) }
            _ = try self.check(result, handle: handle)
        }
    }

    /// Runs one statement. Cancelling the awaiting task cancels the statement on the server
    /// (`PQcancel`), which then fails with SQLSTATE 57014 instead of running on unobserved.
    public func run(_ query: PostgresQuery) async throws -> PostgresResult {
        try Self.refuseNULCharacters(in: [query])
        return try await run(query, after: [])
    }

    /// `run`, after the statements of `prelude` (their results unread; the first that fails
    /// stops the rest) on the same turn of the connection's queue: a transaction's `BEGIN` and
    /// its statements run later (``PostgresTransaction/executeLater(_:)``). Every trip to the
    /// queue and back costs two thread hand-offs, and at a light load those, not the
    /// statements, are most of a service's CPU.
    ///
    /// The caller has refused NUL characters (``refuseNULCharacters(in:)``) in all of them.
    func run(_ query: PostgresQuery, after prelude: [PostgresQuery]) async throws -> PostgresResult {
        // A task cancelled before the statement starts is cleaning up (ROLLBACK after the
        // cancellation): let that run rather than cancel it too.
        if Task.isCancelled {
            return try await onQueue { handle in
                for statement in prelude { _ = try self.execute(statement, handle: handle) }
                return try self.execute(query, handle: handle)
            }
        }
        let statement = statements.begin()
        defer { statements.end(statement) }
        return try await withTaskCancellationHandler {
            try await onQueue { handle in
                // Cancelled while waiting for the queue, or between two statements of the turn:
                // the server has nothing to cancel at that moment, so the rest is not sent at
                // all (it would otherwise run to its end).
                for next in prelude {
                    try self.throwIfCancelRequested(statement)
                    _ = try self.execute(next, handle: handle)
                }
                try self.throwIfCancelRequested(statement)
                return try self.execute(query, handle: handle)
            }
        } onCancel: {
            statements.requestCancel(statement)
            cancel(statement)
        }
    }

    private func throwIfCancelRequested(_ statement: Int) throws {
        if statements.isCancelRequested(statement) {
            throw PostgresError.server(
                sqlState: "57014", message: "canceling statement due to user request (before it was sent)", detail: nil)
        }
    }

    /// libpq passes parameters as C strings: a NUL would cut the value silently. Refuse it the
    /// way the server refuses a character it cannot store (22021), a permanent error.
    static func refuseNULCharacters(in queries: [PostgresQuery]) throws {
        for query in queries where query.binds.contains(where: { $0?.containsNULCharacter == true }) {
            throw PostgresError.server(
                sqlState: "22021", message: "a parameter contains a NUL character (U+0000), which text cannot hold", detail: nil)
        }
    }

    /// Sends one statement and waits for its result. Runs on `queue`.
    private func execute(_ query: PostgresQuery, handle: OpaquePointer) throws -> PostgresResult {
        let name = query.prepared ? try preparedName(of: query, handle: handle) : nil
        let result = withOptionalCStringArray(query.binds) { values in
            if let name {
                PQexecPrepared(handle, name, Int32(query.binds.count), values, nil, nil, 0)
            } else {
                PQexecParams(handle, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        return try check(result, handle: handle)
    }

    /// Asks the server to cancel `statement` if this connection still runs it. `PQcancel` opens
    /// its own short connection, so it runs on a global queue, never on the cooperative pool; the
    /// check just before it keeps a late cancel from hitting the next caller's statement.
    private func cancel(_ statement: Int) {
        guard let cancelHandle else { return }
        let box = CancelBox(cancelHandle, owner: self)
        DispatchQueue.global().async {
            guard box.owner.statements.isRunning(statement) else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(box.pointer, &buffer, Int32(buffer.count))
        }
    }

    /// True when the connection can still be used. Reads what the server sent meanwhile without
    /// blocking (libpq sockets are non-blocking), so a connection the server closed during a
    /// restart is noticed before it is handed out again.
    public func isUsable() async -> Bool {
        await withCheckedContinuation { continuation in
            queue.async {
                guard let handle = self.handle, !self.broken else {
                    continuation.resume(returning: false)
                    return
                }
                let consumed = PQconsumeInput(handle)
                let usable = consumed == 1 && PQstatus(handle) == CONNECTION_OK
                    && PQtransactionStatus(handle) == PQTRANS_IDLE
                if !usable { self.broken = true }
                continuation.resume(returning: usable)
            }
        }
    }

    /// Closes the connection; later calls fail with `connectionLost`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle { PQfinish(handle) }
                self.handle = nil
                self.broken = true
                continuation.resume()
            }
        }
    }

    /// The socket for `poll(2)`, used by the listener on this connection's queue.
    func withHandle<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await onQueue(body)
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let handle = self.handle, !self.broken else {
                    continuation.resume(throwing: PostgresError.connectionLost("connection is closed"))
                    return
                }
                continuation.resume(with: Result { try body(handle) })
            }
        }
    }

    /// The name `query` is prepared under on this connection, preparing it the first time; nil
    /// once the connection holds ``maxPreparedStatements`` (the statement then runs unprepared).
    /// Runs on `queue`. A failed prepare (e.g. in an aborted transaction) throws and is tried
    /// again next time; prepared statements outlive transactions, rolled back or not.
    private func preparedName(of query: PostgresQuery, handle: OpaquePointer) throws -> String? {
        if let name = preparedNames[query.sql] { return name }
        guard preparedNames.count < Self.maxPreparedStatements else { return nil }
        let name = "crm_\(preparedNames.count + 1)"
        let result = PQprepare(handle, name, query.sql, Int32(query.binds.count), nil)
        defer { PQclear(result) }
        _ = try check(result, handle: handle)
        preparedNames[query.sql] = name
        return name
    }

    /// Turns a libpq result into rows or a typed error. Runs on `queue`.
    private func check(_ result: OpaquePointer?, handle: OpaquePointer) throws -> PostgresResult {
        let status = result.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        switch status {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(rows: [], affectedRows: affectedRows(result))
        case PGRES_TUPLES_OK:
            return PostgresResult(rows: rows(of: result!), affectedRows: affectedRows(result))
        default:
            if PQstatus(handle) != CONNECTION_OK {
                broken = true
                let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
                throw PostgresError.connectionLost(message.isEmpty ? "server closed the connection" : message)
            }
            guard let result else {
                throw PostgresError.connectionLost(String(cString: PQerrorMessage(handle)))
            }
            let state = field(result, DiagnosticField.sqlState) ?? "XX000"
            let message = field(result, DiagnosticField.message)
                ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PostgresError.server(sqlState: state, message: message, detail: field(result, DiagnosticField.detail))
        }
    }

    private func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        guard let pointer = PQresultErrorField(result, code) else { return nil }
        return String(cString: pointer)
    }

    private func affectedRows(_ result: OpaquePointer?) -> Int {
        guard let result, let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    private func rows(of result: OpaquePointer) -> [PostgresRow] {
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        let columns = PostgresColumns(names: (0..<columnCount).map { String(cString: PQfname(result, $0)) })
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    // The length is known: no strlen, one pass to validate the UTF-8.
                    let bytes = UnsafeRawBufferPointer(
                        start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return rows
    }
}

/// Numbers the statements of one connection and remembers the one in flight.
final class StatementTracker: @unchecked Sendable {
    private let lock = NSLock()
    private var counter = 0
    private var running = 0
    private var cancelRequested = 0

    func begin() -> Int {
        lock.withLock {
            counter += 1
            running = counter
            return counter
        }
    }

    func end(_ statement: Int) {
        lock.withLock { if running == statement { running = 0 } }
    }

    func isRunning(_ statement: Int) -> Bool { lock.withLock { running == statement } }

    /// Marks the running statement as cancelled by its task; one that has not been sent yet
    /// is then never sent.
    func requestCancel(_ statement: Int) {
        lock.withLock { if running == statement { cancelRequested = statement } }
    }

    func isCancelRequested(_ statement: Int) -> Bool { lock.withLock { cancelRequested == statement } }
}

/// Carries the cancel object (and keeps its connection alive) onto the queue that sends the cancel.
private struct CancelBox: @unchecked Sendable {
    let pointer: OpaquePointer
    let owner: PostgresConnection
    init(_ pointer: OpaquePointer, owner: PostgresConnection) {
        self.pointer = pointer
        self.owner = owner
    }
}

/// libpq's `PG_DIAG_*` codes are character-literal macros, which Swift does not import.
private enum DiagnosticField {
    static let sqlState = Int32(UInt8(ascii: "C"))
    static let message = Int32(UInt8(ascii: "M"))
    static let detail = Int32(UInt8(ascii: "D"))
}

/// A thread-safe increasing number, used for labels.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Calls `body` with a NULL-terminated array of C strings that lives for the call.
func withCStringArray<T>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    return body(duplicates.map { UnsafePointer($0) } + [nil])
}

/// Like `withCStringArray` but keeps `nil` entries as NULL pointers (SQL NULL parameters).
/// The values are copied into one buffer, one after another, each NUL-terminated: a 500-row
/// statement has thousands of parameters, and one allocation for all of them instead of one
/// each showed in the services' profiles.
func withOptionalCStringArray<T>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    var capacity = 0
    for string in strings { if let string { capacity += string.utf8.count + 1 } }
    let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, capacity), alignment: MemoryLayout<CChar>.alignment)
    defer { raw.deallocate() }
    let buffer = raw.bindMemory(to: CChar.self, capacity: max(1, capacity))
    var pointers: [UnsafePointer<CChar>?] = []
    pointers.reserveCapacity(strings.count)
    var offset = 0
    for string in strings {
        guard var string else {
            pointers.append(nil)
            continue
        }
        let start = buffer + offset
        let count = string.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { characters in
                if let source = characters.baseAddress { start.update(from: source, count: characters.count) }
            }
            return bytes.count
        }
        start[count] = 0
        pointers.append(UnsafePointer(start))
        offset += count + 1
    }
    return body(pointers)
}

extension String {
    /// Whether the text holds U+0000, which a C string parameter would cut off silently.
    var containsNULCharacter: Bool {
        var copy = self
        return copy.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return false }
            return memchr(base, 0, bytes.count) != nil
        }
    }
}

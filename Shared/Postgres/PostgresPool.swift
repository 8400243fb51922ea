import Foundation
import Logging

/// A bounded pool of connections to one database, all with the same search path.
///
/// It survives a server restart: connections that broke are dropped when they come back (or
/// when they are found closed before reuse) and new ones are opened on demand. A call that was
/// in flight when the connection broke fails with `PostgresError.connectionLost`; a caller that
/// finds no free connection within `acquireTimeout` gets `PostgresError.poolTimeout` — nothing
/// waits forever.
public actor PostgresPool {
    public struct Configuration: Sendable {
        public var url: String
        public var searchPath: String?
        public var maxConnections: Int
        public var acquireTimeout: Duration
        public var applicationName: String
        /// Deadlines of every session the pool opens.
        public var session: SessionLimits
        /// How often `withTransaction` runs a body that lost a deadlock or serialization race.
        public var conflictAttempts: Int

        public init(
            url: String, searchPath: String? = nil, maxConnections: Int = 10,
            acquireTimeout: Duration = .seconds(10), applicationName: String = "crm",
            session: SessionLimits = SessionLimits(), conflictAttempts: Int = 5
        ) {
            self.url = url
            self.searchPath = searchPath
            self.maxConnections = max(1, maxConnections)
            self.acquireTimeout = acquireTimeout
            self.applicationName = applicationName
            self.session = session
            self.conflictAttempts = max(1, conflictAttempts)
        }
    }

    public nonisolated let configuration: Configuration
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var openCount = 0
    private var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
    private var waiterOrder: [Int] = []
    private var nextWaiterID = 0
    private var closed = false

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "crm.postgres")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Lends a connection to `body` and takes it back afterwards.
    @discardableResult
    public nonisolated func withConnection<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// A transaction that loses a deadlock (40P01) or a serialization race (40001) is rolled
    /// back and run again from the start, up to `conflictAttempts` times with a jittered pause,
    /// so callers never see those errors unless the conflict persists. `body` must therefore
    /// only have effects inside the transaction (true of every store: they write rows and the
    /// outbox, nothing else).
    @discardableResult
    public nonisolated func withTransaction<T: Sendable>(
        _ body: (PostgresTransaction) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await withConnection { connection in
                    try await PostgresTransaction.run(on: connection, body)
                }
            } catch let error as PostgresError where error.isConcurrencyConflict && attempt < configuration.conflictAttempts {
                // Jitter spreads the retries of the transactions that collided, so they do not
                // collide again in lockstep: 5–25 ms, then 10–50 ms, …
                let base = 5 << min(attempt - 1, 5)
                try await Task.sleep(for: .milliseconds(Int.random(in: base...(base * 5))))
                attempt += 1
            }
        }
    }

    @discardableResult
    public nonisolated func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await withConnection { try await $0.query(query) }
    }

    @discardableResult
    public nonisolated func execute(_ query: PostgresQuery) async throws -> Int {
        try await withConnection { try await $0.execute(query) }
    }

    /// Closes idle connections and refuses new work; connections in use close when returned.
    public func close() async {
        closed = true
        let connections = idle
        idle.removeAll()
        openCount -= connections.count
        for connection in connections { await connection.close() }
        for (_, waiter) in waiters { waiter.resume(throwing: PostgresError.poolClosed) }
        waiters.removeAll()
        waiterOrder.removeAll()
    }

    public var statistics: (open: Int, idle: Int, waiting: Int) { (openCount, idle.count, waiters.count) }

    private func acquire() async throws -> PostgresConnection {
        let deadline = ContinuousClock.now + configuration.acquireTimeout
        while true {
            guard !closed else { throw PostgresError.poolClosed }
            while let connection = idle.popLast() {
                if await connection.isUsable() { return connection }
                openCount -= 1
                await connection.close()
            }
            if openCount < configuration.maxConnections {
                openCount += 1
                do {
                    return try await PostgresConnection.connect(
                        url: configuration.url, searchPath: configuration.searchPath,
                        applicationName: configuration.applicationName, session: configuration.session)
                } catch {
                    openCount -= 1
                    wakeOneWaiter()
                    throw error
                }
            }
            try await waitForConnection(until: deadline)
        }
    }

    private func release(_ connection: PostgresConnection) async {
        let usable = await connection.isUsable()
        if closed || !usable {
            openCount -= 1
            await connection.close()
        } else {
            idle.append(connection)
        }
        wakeOneWaiter()
    }

    private func waitForConnection(until deadline: ContinuousClock.Instant) async throws {
        guard ContinuousClock.now < deadline else {
            throw PostgresError.poolTimeout(seconds: Double(configuration.acquireTimeout.components.seconds))
        }
        nextWaiterID += 1
        let id = nextWaiterID
        let timeout = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            await self?.timeOut(waiter: id)
        }
        defer { timeout.cancel() }
        // A cancelled caller (e.g. a client that hung up) stops waiting at once.
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                waiters[id] = continuation
                waiterOrder.append(id)
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: Int) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        waiterOrder.removeAll { $0 == id }
        waiter.resume(throwing: CancellationError())
    }

    private func timeOut(waiter id: Int) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        waiterOrder.removeAll { $0 == id }
        waiter.resume(throwing: PostgresError.poolTimeout(seconds: Double(configuration.acquireTimeout.components.seconds)))
    }

    private func wakeOneWaiter() {
        while !waiterOrder.isEmpty {
            let id = waiterOrder.removeFirst()
            if let waiter = waiters.removeValue(forKey: id) {
                waiter.resume()
                return
            }
        }
    }
}

/// Deadlines every pooled session runs with (DESIGN rule 9): no statement runs and no lock is
/// awaited for longer than this, and a dead peer is noticed by TCP keepalives. The server
/// answers an overrun with SQLSTATE 57014 (statement) or 55P03 (lock), which callers treat as
/// transient.
public struct SessionLimits: Sendable, Equatable {
    /// `statement_timeout`; 0 disables it.
    public var statementTimeoutMilliseconds: Int
    /// `lock_timeout`; 0 disables it.
    public var lockTimeoutMilliseconds: Int
    /// `idle_in_transaction_session_timeout`: a session that forgot its transaction frees its locks.
    public var idleInTransactionTimeoutMilliseconds: Int
    /// Seconds of silence before the first TCP keepalive probe.
    public var keepaliveIdleSeconds: Int

    public init(
        statementTimeoutMilliseconds: Int = 30_000, lockTimeoutMilliseconds: Int = 10_000,
        idleInTransactionTimeoutMilliseconds: Int = 60_000, keepaliveIdleSeconds: Int = 10
    ) {
        self.statementTimeoutMilliseconds = max(0, statementTimeoutMilliseconds)
        self.lockTimeoutMilliseconds = max(0, lockTimeoutMilliseconds)
        self.idleInTransactionTimeoutMilliseconds = max(0, idleInTransactionTimeoutMilliseconds)
        self.keepaliveIdleSeconds = max(1, keepaliveIdleSeconds)
    }

    /// No limits: for sessions that legitimately wait long (LISTEN, the relay's lease, migrations).
    public static let unlimited = SessionLimits(
        statementTimeoutMilliseconds: 0, lockTimeoutMilliseconds: 0, idleInTransactionTimeoutMilliseconds: 0)

    var options: String {
        " -c statement_timeout=\(statementTimeoutMilliseconds) -c lock_timeout=\(lockTimeoutMilliseconds)"
            + " -c idle_in_transaction_session_timeout=\(idleInTransactionTimeoutMilliseconds)"
    }
}

/// One dependency the service needs before it can take traffic (its database, its broker).
public struct ReadinessCheck: Sendable {
    public var name: String
    /// A check that takes longer counts as failed: a hung database must not hang the probe.
    public var timeout: Duration
    public var check: @Sendable () async throws -> Void
    /// Whether the probe's answer names the failure. Only for checks whose errors are written
    /// for operators (the pipeline's); a database error may say more than a public probe should.
    public var exposesReason: Bool

    public init(
        _ name: String, timeout: Duration = .seconds(5), exposesReason: Bool = false,
        check: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.timeout = timeout
        self.exposesReason = exposesReason
        self.check = check
    }
}

struct ReadinessCheckTimedOut: Error {}

extension ReadinessCheck {
    /// Runs the check against its timeout; returns the error it failed with, nil when it passed.
    func run() async -> (any Error)? {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await check() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw ReadinessCheckTimedOut()
                }
                // The first to finish decides; the loser is cancelled.
                defer { group.cancelAll() }
                try await group.next()
            }
            return nil
        } catch {
            return error
        }
    }
}

import Foundation

/// Whether a background component (a consumer, the relay) currently does its work. A component
/// reports each success and each failure; `/health/ready` fails once one has been failing for
/// longer than the service's threshold (`CRM_UNHEALTHY_AFTER_SECONDS`), with the reason — so an
/// orchestrator restarts or stops routing to an instance whose pipeline is stuck, instead of
/// the stall showing up only as a growing backlog.
public final class ComponentHealth: Sendable {
    public let name: String
    private let state = LockedState()

    public init(name: String) {
        self.name = name
    }

    /// The component did its work; any failure streak ends.
    public func working() {
        state.update { $0 = nil }
    }

    /// The component failed; the streak starts now unless it is already running.
    public func failing(_ reason: String, at now: Date = Date()) {
        state.update { streak in
            streak = (since: streak?.since ?? now, reason: reason)
        }
    }

    /// What failed and for how long, when the component has been failing for at least
    /// `threshold`. The error itself stays in the log: the probe is public, and database or
    /// broker messages can name hosts and statements.
    public func failure(longerThan threshold: TimeInterval, now: Date = Date()) -> String? {
        guard let streak = state.value, now.timeIntervalSince(streak.since) >= threshold else { return nil }
        return "\(name) failing for \(Int(now.timeIntervalSince(streak.since))) s (see the service log)"
    }

    /// The last error of the current failure streak, for logs and operators.
    public var lastError: String? { state.value?.reason }

    private final class LockedState: @unchecked Sendable {
        private let lock = NSLock()
        private var streak: (since: Date, reason: String)?

        var value: (since: Date, reason: String)? {
            lock.lock()
            defer { lock.unlock() }
            return streak
        }

        func update(_ body: (inout (since: Date, reason: String)?) -> Void) {
            lock.lock()
            defer { lock.unlock() }
            body(&streak)
        }
    }
}

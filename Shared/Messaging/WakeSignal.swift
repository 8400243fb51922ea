import Foundation

/// A level-triggered wake-up: `signal()` from anywhere, `wait(timeout:)` returns on the first
/// signal or when the timeout passes. Signals while nobody waits are remembered once.
final class WakeSignal: @unchecked Sendable {
    // All state guarded by `lock`.
    private let lock = NSLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?
    private var generation = 0

    func signal() {
        lock.lock()
        let toResume = waiter
        waiter = nil
        if toResume == nil { pending = true }
        lock.unlock()
        toResume?.resume()
    }

    func wait(timeout: Duration) async {
        let ticket: Int? = {
            lock.lock()
            defer { lock.unlock() }
            if pending {
                pending = false
                return nil
            }
            generation += 1
            return generation
        }()
        guard let ticket else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            self?.expire(ticket)
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            lock.lock()
            if pending || generation != ticket {
                pending = false
                lock.unlock()
                continuation.resume()
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }

    private func expire(_ ticket: Int) {
        lock.lock()
        guard generation == ticket, let toResume = waiter else {
            // The timer fired before the waiter was stored: make that wait return at once.
            if generation == ticket { generation += 1 }
            lock.unlock()
            return
        }
        waiter = nil
        lock.unlock()
        toResume.resume()
    }
}

/// Exponential back-off between retries, capped.
struct Backoff {
    private let initial: Duration
    private let maximum: Duration
    private(set) var current: Duration

    init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// Returns the delay to wait now and doubles the next one.
    mutating func next() -> Duration {
        let delay = current
        current = min(current * 2, maximum)
        return delay
    }

    mutating func reset() { current = initial }
}

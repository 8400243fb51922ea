import Messaging
import ServiceLifecycle

/// A service's consumers run as one background service: they start together, and on shutdown
/// every one finishes its batch and leaves its group at the same time. As separate services
/// they stopped one after another, and with several members in one group each departure was a
/// rebalance of its own while the others still consumed (rejecting their last commits).
struct ConsumersTogether: Service {
    let consumers: [ConsumerRuntime]

    func run() async throws {
        // A member that fails for good ends the others too, and the error reaches the service
        // group as before. Child tasks inherit the graceful shutdown of this task.
        try await withThrowingDiscardingTaskGroup { group in
            for consumer in consumers {
                group.addTask { try await consumer.run() }
            }
        }
    }
}

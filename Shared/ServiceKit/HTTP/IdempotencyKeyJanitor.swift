import Logging
import Postgres
import ServiceLifecycle

/// Deletes stored `Idempotency-Key` responses older than their time to live
/// (`CRM_IDEMPOTENCY_TTL_HOURS`, default 24), so the table stays as small as the traffic of one
/// retry window. Runs every 10 minutes in each instance; the deletes are idempotent.
struct IdempotencyKeyJanitor: Service {
    let pool: PostgresPool
    let ttlHours: Int
    let logger: Logger
    var interval: Duration = .seconds(600)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await IdempotentRequests(ttlHours: ttlHours).deleteExpired(in: pool)
                } catch {
                    logger.warning("cannot delete expired idempotency keys", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}

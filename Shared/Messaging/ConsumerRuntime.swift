import Contracts
import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Applies one consumed message to the service's database, inside the batch transaction.
public protocol MessageHandler: Sendable {
    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws
    /// Called once per batch, in the batch transaction, after every message of it was handled
    /// (or dead-lettered): the place for work that should happen at most once per batch, such as
    /// publishing one coalesced snapshot per changed key. Does nothing unless implemented.
    func finishBatch(in transaction: PostgresTransaction) async throws
}

extension MessageHandler {
    public func finishBatch(in transaction: PostgresTransaction) async throws {}
}

/// A failure that no retry can fix (malformed JSON, a contract violation): the message goes to
/// the dead-letter topic at once.
public struct PermanentFailure: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Runs a consumer group member: polls a batch, applies it in one transaction (set-based when
/// the handler is a ``BatchMessageHandler``; with a savepoint per message when that fails or a
/// message fails), sends messages that keep failing to `crm.dlq.v1`, and only then commits the
/// offsets. A crash anywhere before the commit replays the batch, which the handlers' version
/// checks make harmless; nothing is skipped. On graceful shutdown it finishes the batch in
/// flight, commits, and leaves the group.
public final class ConsumerRuntime: Service, Sendable {
    public struct Configuration: Sendable {
        public var batchSize: Int
        public var batchTimeout: Duration
        /// Attempts per message before it is dead-lettered.
        public var maxAttempts: Int

        public init(batchSize: Int = 500, batchTimeout: Duration = .milliseconds(200), maxAttempts: Int = 3) {
            self.batchSize = batchSize
            self.batchTimeout = batchTimeout
            self.maxAttempts = max(1, maxAttempts)
        }
    }

    private let current: CurrentConsumer
    /// Makes a replacement when the Kafka handle failed fatally; nil: the runtime stops instead.
    private let makeConsumer: (@Sendable () throws -> KafkaConsumer)?
    private var consumer: KafkaConsumer { current.value }
    private let pool: PostgresPool
    private let deadLetterProducer: KafkaProducer
    private let handler: any MessageHandler
    private let configuration: Configuration
    private let logger: Logger
    private let processed: Counter
    private let deadLettered: Counter
    private let transientRetries: Counter
    private let setBasedFallbacks: Counter
    private let parked = ParkedMessages()
    /// Reports whether batches get applied, for `/health/ready`.
    public let health: ComponentHealth
    /// Set once a poll came back empty: the member had read everything its partitions held
    /// then. Work that must not act on a stale projection (e.g. firing reminders after a
    /// restart) waits for it.
    public let caughtUp = CaughtUpSignal()

    public init(
        consumer: KafkaConsumer, pool: PostgresPool, deadLetterProducer: KafkaProducer, handler: any MessageHandler,
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "crm.consumer"),
        makeConsumer: (@Sendable () throws -> KafkaConsumer)? = nil, healthName: String? = nil
    ) {
        self.current = CurrentConsumer(consumer)
        self.makeConsumer = makeConsumer
        self.pool = pool
        self.deadLetterProducer = deadLetterProducer
        self.handler = handler
        self.configuration = configuration
        self.logger = logger
        let dimensions = [("consumer", consumer.groupID)]
        processed = Counter(label: "crm_consumer_messages_total", dimensions: dimensions)
        deadLettered = Counter(label: "crm_dlq_messages_total", dimensions: dimensions)
        transientRetries = Counter(label: "crm_consumer_transient_retries_total", dimensions: dimensions)
        setBasedFallbacks = Counter(label: "crm_consumer_batch_fallbacks_total", dimensions: dimensions)
        health = ComponentHealth(name: healthName ?? "consumer \(consumer.groupID)")
    }

    public func run() async throws {
        // Leave the group however the loop ends, so the partitions move on at once.
        do {
            try await consumeUntilStopped()
        } catch is CancellationError {
            // Stopped mid-batch: nothing of it was committed, the next owner reads it again.
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
    }

    private var stopping: Bool { Task.isShuttingDownGracefully || Task.isCancelled }

    private func consumeUntilStopped() async throws {
        while !stopping {
            let batch: [KafkaMessage]
            do {
                batch = try await consumer.poll(maxMessages: configuration.batchSize, timeout: configuration.batchTimeout)
                // An idle topic is not a failure: a successful poll ends a poll-failure streak.
                if batch.isEmpty {
                    health.working()
                    caughtUp.set()
                }
            } catch {
                health.failing("poll failed: \(error)")
                logger.error("consumer poll failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                if let kafkaError = error as? KafkaError, kafkaError.isFatal { try await replaceConsumer(after: kafkaError) }
                continue
            }
            guard !batch.isEmpty else { continue }
            try await process(batch)
        }
    }

    /// A fatally failed handle can never poll again: it is closed and a new member joins the
    /// group (reading from the last committed offset, so nothing is skipped).
    private func replaceConsumer(after error: KafkaError) async throws {
        guard let makeConsumer else { throw error }
        await consumer.close()
        var backoff = Backoff()
        while !stopping {
            do {
                current.value = try makeConsumer()
                logger.warning("consumer recreated after a fatal error", metadata: ["error": "\(error)"])
                return
            } catch {
                logger.error("cannot recreate the consumer", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// Applies, dead-letters and commits one batch; retries the database part until it commits.
    func process(_ batch: [KafkaMessage]) async throws {
        var backoff = Backoff()
        var deadLetters: [(KafkaMessage, String)] = []
        while true {
            do {
                deadLetters = try await apply(batch)
                break
            } catch {
                // Stopping with the batch uncommitted is safe: it is read again after the restart.
                guard !stopping else { throw CancellationError() }
                // Transient (a lost connection, a deadlock, a timeout): the batch is applied again
                // from the start, and no message is charged an attempt for it.
                health.failing("batch transaction failed: \(error)")
                transientRetries.increment()
                logger.warning("batch transaction failed; retrying", metadata: ["error": "\(error)", "messages": "\(batch.count)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
        health.working()
        try await publish(deadLetters)
        processed.increment(by: Int64(batch.count))
        backoff.reset()
        for attempt in 1... {
            do {
                try await consumer.commit(batch)
                return
            } catch let error as KafkaError {
                logger.warning("offset commit failed", metadata: ["error": "\(error)"])
                // Lost the partitions to a rebalance, or stopping and the broker will not answer:
                // whoever reads them next replays from the last commit, which the handlers'
                // version checks make harmless.
                if error.isGroupMembershipLost || (stopping && attempt >= 3) { return }
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// One transaction for the batch. The common case, every message succeeding, runs without
    /// savepoints (a third of the round trips); when a message fails, that transaction is rolled
    /// back and the batch is applied again with a savepoint per message, so the failing one is
    /// retried alone and the others are kept. Returns the messages that failed every attempt.
    private func apply(_ batch: [KafkaMessage]) async throws -> [(KafkaMessage, String)] {
        if let batchHandler = handler as? any BatchMessageHandler {
            return try await applySetBased(batch, with: batchHandler)
        }
        struct FastPathFailed: Error {
            let index: Int
            let underlying: any Error
        }
        do {
            try await pool.withTransaction { transaction in
                for (index, message) in batch.enumerated() {
                    do {
                        try await self.handler.handle(message, in: transaction)
                        // What the handler queued fails here, with its message.
                        try await transaction.flush()
                    } catch {
                        throw FastPathFailed(index: index, underlying: error)
                    }
                }
                try await self.handler.finishBatch(in: transaction)
            }
            return []
        } catch let failure as FastPathFailed {
            if failure.underlying.isTransientDatabaseError { throw failure.underlying }
            return try await applyWithSavepoints(batch, failedOnce: failure.index)
        } catch {
            // Failed after every handler returned (`finishBatch`, or what it queued failing with
            // the commit): no message to blame, so the careful pass runs them one by one.
            if error.isTransientDatabaseError { throw error }
            return try await applyWithSavepoints(batch, failedOnce: nil)
        }
    }

    /// The batch path: every message is decoded first (one that cannot be is dead-lettered at
    /// once, without a database attempt), then the handler applies all decoded values in one
    /// transaction with set-based statements. If that fails, the transaction is rolled back and
    /// the batch takes the careful per-message pass, which finds the message at fault.
    private func applySetBased<Handler: BatchMessageHandler>(
        _ batch: [KafkaMessage], with handler: Handler
    ) async throws -> [(KafkaMessage, String)] {
        var decoded: [Handler.Decoded] = []
        var decodable: [KafkaMessage] = []
        var rejected: [(KafkaMessage, String)] = []
        for message in batch {
            do {
                decoded.append(try handler.decode(message))
                decodable.append(message)
            } catch let failure as PermanentFailure {
                rejected.append((message, failure.reason))
            } catch {
                rejected.append((message, "\(error)"))
            }
        }
        do {
            try await pool.withTransaction { [decoded] transaction in
                if !decoded.isEmpty { try await handler.apply(decoded, in: transaction) }
                try await handler.finishBatch(in: transaction)
            }
            return rejected
        } catch {
            if error.isTransientDatabaseError { throw error }
            setBasedFallbacks.increment()
            logger.warning("set-based batch failed; applying it message by message", metadata: [
                "error": "\(error)", "messages": "\(decodable.count)",
            ])
            return try await applyWithSavepoints(decodable, failedOnce: nil) + rejected
        }
    }

    /// The careful pass: a savepoint per message, up to `maxAttempts` per message (the fast
    /// path's failure counts as the first attempt of the message that caused it).
    private func applyWithSavepoints(_ batch: [KafkaMessage], failedOnce: Int?) async throws -> [(KafkaMessage, String)] {
        try await pool.withTransaction { transaction in
            var failed: [(KafkaMessage, String)] = []
            for (index, message) in batch.enumerated() {
                var attempt = index == failedOnce ? 1 : 0
                while true {
                    attempt += 1
                    do {
                        try await transaction.savepoint { try await self.handler.handle(message, in: $0) }
                        break
                    } catch let error as PostgresError {
                        // A broken connection, a deadlock or a timeout is not the message's fault:
                        // the whole batch is retried, and the attempt does not count.
                        if error.isTransient { throw error }
                        if attempt >= configuration.maxAttempts {
                            failed.append((message, "\(error)"))
                            break
                        }
                    } catch let error as PermanentFailure {
                        failed.append((message, error.reason))
                        break
                    } catch {
                        if attempt >= configuration.maxAttempts {
                            failed.append((message, "\(error)"))
                            break
                        }
                    }
                }
            }
            try await self.handler.finishBatch(in: transaction)
            return failed
        }
    }

    /// Sends failed messages to `crm.dlq.v1` with their origin; retries until the broker has them,
    /// because committing offsets without that would lose them.
    private func publish(_ deadLetters: [(KafkaMessage, String)]) async throws {
        guard !deadLetters.isEmpty else { return }
        let records = deadLetters.map { message, reason in
            ProducerRecord(
                topic: Topic.deadLetters, key: message.key, value: message.value,
                headers: message.headers + [
                    KafkaHeader(name: DeadLetterHeader.topic, string: message.topic),
                    KafkaHeader(name: DeadLetterHeader.partition, string: String(message.partition)),
                    KafkaHeader(name: DeadLetterHeader.offset, string: String(message.offset)),
                    KafkaHeader(name: DeadLetterHeader.consumer, string: consumer.groupID),
                    KafkaHeader(name: DeadLetterHeader.error, string: reason),
                ])
        }
        var pending = records
        var backoff = Backoff()
        while !pending.isEmpty {
            let results = await deadLetterProducer.send(pending)
            // A dead letter the broker refuses for good (e.g. too large) is parked in the
            // service's schema with the error, so the partition still moves on and nothing is lost.
            let refused = zip(pending, results).compactMap { record, result -> (ProducerRecord, KafkaError)? in
                if case .failure(let error) = result, error.isPermanentDeliveryFailure { return (record, error) }
                return nil
            }
            var parkedNow = false
            if !refused.isEmpty {
                do {
                    try await pool.withTransaction { transaction in
                        for (record, error) in refused {
                            try await self.parked.park(record, error: "dead letter refused: \(error)", in: transaction)
                        }
                    }
                    parkedNow = true
                    logger.error("dead letters parked: the broker refuses them", metadata: ["count": "\(refused.count)"])
                } catch {
                    logger.warning("cannot park refused dead letters; retrying", metadata: ["error": "\(error)"])
                }
            }
            pending = zip(pending, results).compactMap { record, result in
                guard case .failure(let error) = result else { return nil }
                return error.isPermanentDeliveryFailure && parkedNow ? nil : record
            }
            if !pending.isEmpty {
                guard !stopping else { throw CancellationError() }
                logger.warning("dead-letter publish failed; retrying", metadata: ["pending": "\(pending.count)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
        for (message, reason) in deadLetters {
            logger.error("message dead-lettered", metadata: [
                "topic": "\(message.topic)", "partition": "\(message.partition)", "offset": "\(message.offset)",
                "reason": "\(reason)",
            ])
        }
        deadLettered.increment(by: Int64(deadLetters.count))
    }
}

/// The runtime's consumer, replaced after a fatal error; guarded by a lock because the runtime
/// is `Sendable` (only its own task reads and writes it).
private final class CurrentConsumer: @unchecked Sendable {
    private let lock = NSLock()
    private var consumer: KafkaConsumer

    init(_ consumer: KafkaConsumer) { self.consumer = consumer }

    var value: KafkaConsumer {
        get { lock.withLock { consumer } }
        set { lock.withLock { consumer = newValue } }
    }
}

/// A flag set once and read from any thread.
public final class CaughtUpSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    public var isSet: Bool { lock.withLock { value } }

    public func set() { lock.withLock { value = true } }

    /// Waits until it is set, or until `timeout` passed (then goes on regardless: a consumer
    /// that never catches up must not stop the work for good).
    public func wait(timeout: Duration, poll: Duration = .milliseconds(100)) async {
        let deadline = ContinuousClock.now + timeout
        while !isSet, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: poll)
        }
    }
}

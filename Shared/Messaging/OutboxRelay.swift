import Foundation
import Kafka
import Logging
import Metrics
import Postgres
import ServiceLifecycle

/// Publishes a schema's outbox to Kafka, in id order, deleting each row only after the broker
/// acknowledged it. One relay per schema is active at a time (a session advisory lock held on a
/// dedicated connection); the others stand by and take over when its session ends. It wakes on
/// NOTIFY and also polls, so a lost notification only delays a message, never strands it.
///
/// Delivery is at least once: a row whose acknowledgement was lost is sent again. Consumers
/// tolerate that because every snapshot carries its aggregate `version`.
public final class OutboxRelay: Service, Sendable {
    public struct Configuration: Sendable {
        public var batchSize: Int
        /// Batches handed to the producer whose delivery reports have not all arrived yet.
        public var maxBatchesInFlight: Int
        public var pollInterval: Duration
        public var standbyInterval: Duration

        public init(
            batchSize: Int = 500, maxBatchesInFlight: Int = 4, pollInterval: Duration = .seconds(1),
            standbyInterval: Duration = .seconds(2)
        ) {
            self.batchSize = batchSize
            self.maxBatchesInFlight = max(1, maxBatchesInFlight)
            self.pollInterval = pollInterval
            self.standbyInterval = standbyInterval
        }
    }

    private let outbox: Outbox
    private let pool: PostgresPool
    private let producer: KafkaProducer
    private let configuration: Configuration
    private let logger: Logger
    private let backlog: Gauge
    private let published: Counter
    private let failures: Counter
    private let parkedCount: Counter
    private let parked = ParkedMessages()
    /// Reports whether publishing works, for `/health/ready`.
    public let health: ComponentHealth

    public init(
        outbox: Outbox, pool: PostgresPool, producer: KafkaProducer,
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "crm.outbox.relay")
    ) {
        self.outbox = outbox
        self.pool = pool
        self.producer = producer
        self.configuration = configuration
        self.logger = logger
        let dimensions = [("schema", outbox.schema)]
        backlog = Gauge(label: "crm_outbox_backlog", dimensions: dimensions)
        published = Counter(label: "crm_outbox_published_total", dimensions: dimensions)
        failures = Counter(label: "crm_outbox_publish_failures_total", dimensions: dimensions)
        parkedCount = Counter(label: "crm_outbox_parked_total", dimensions: dimensions)
        health = ComponentHealth(name: "outbox-relay")
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.runUntilCancelled()
        }
    }

    private func runUntilCancelled() async {
        while !Task.isCancelled {
            do {
                guard let lease = try await acquireLeadership() else {
                    // Standing by is healthy: another instance publishes.
                    health.working()
                    try? await Task.sleep(for: configuration.standbyInterval)
                    continue
                }
                logger.info("outbox relay is active", metadata: ["schema": "\(outbox.schema)"])
                await publishWhileLeader(lease)
                await lease.close()
            } catch {
                health.failing("cannot reach PostgreSQL: \(error)")
                logger.warning("outbox relay cannot reach PostgreSQL", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: configuration.standbyInterval)
            }
        }
    }

    /// Returns the connection holding the schema's relay lock, or nil if another relay holds it.
    /// The relay also reads and deletes its batches on this session: a statement that succeeds
    /// there proves the lock is still held, so no batch goes out after the lease was lost.
    func acquireLeadership() async throws -> PostgresConnection? {
        let connection = try await PostgresConnection.connect(
            url: pool.configuration.url, searchPath: pool.configuration.searchPath,
            applicationName: "crm-outbox-relay", session: pool.configuration.session)
        let rows = try await connection.query(
            "SELECT pg_try_advisory_lock(hashtext(\("crm.outbox-relay.\(outbox.schema)"))) AS locked")
        if try rows.first?.decode("locked", as: Bool.self) == true {
            do {
                try await OutboxBatchReader.prepare(session: connection)
            } catch {
                await connection.close()
                throw error
            }
            return connection
        }
        await connection.close()
        return nil
    }

    private func publishWhileLeader(_ lease: PostgresConnection) async {
        let wake = WakeSignal()
        let listener = Task {
            for await _ in PostgresListener.listen(url: pool.configuration.url, channels: [outbox.channel], logger: logger) {
                wake.signal()
            }
        }
        defer { listener.cancel() }

        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let drained = try await drain(holding: lease)
                if drained {
                    health.working()
                    backoff.reset()
                    await wake.wait(timeout: configuration.pollInterval)
                } else {
                    try? await Task.sleep(for: backoff.next())
                }
            } catch {
                // Stopping cancels the statement in flight: not a lost session.
                if Task.isCancelled { return }
                health.failing("lost its database session: \(error)")
                logger.warning("outbox relay lost its database session", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    /// Publishes batches until the outbox is empty (true) or a delivery failed transiently
    /// (false). Up to `maxBatchesInFlight` batches are with the producer at once: while the
    /// oldest one's delivery reports arrive, the later ones are already being sent, and each
    /// batch is settled (refused rows parked, the delivered prefix deleted) in id order as its
    /// reports complete. Every read runs on the lease session (see ``acquireLeadership()``), and
    /// the delivered rows of a settled batch are deleted by the statement that reads the next
    /// batch: one round trip per batch. Batches are read ahead only while they come back full;
    /// at a light load a message costs two statements (its read, then its delete with the next
    /// read), not three.
    ///
    /// Rows of a key that has a parked row wait behind it (per-key order is the contract); every
    /// other key goes on. A key refused when it is enqueued is held back in the rest of its batch
    /// (``RefusedKeys``), and no new batch is selected until the pipeline has settled, its row
    /// parked: from then on the query leaves the key out. A refusal that only a delivery report
    /// tells (the producer checks size and topic before sending, so this is rare) cannot stop
    /// later rows of its key already in flight.
    private func drain(holding lease: PostgresConnection) async throws -> Bool {
        var pipeline: [InFlightBatch] = []
        var refusedKeys = RefusedKeys()
        var reader = OutboxBatchReader(batchSize: configuration.batchSize)
        // Delivered rows of the last settled batch, deleted with the next read (or on their own
        // when no read follows).
        var delivered: [Int64] = []
        while !Task.isCancelled {
            if pipeline.isEmpty { refusedKeys = RefusedKeys() }
            while pipeline.count < configuration.maxBatchesInFlight, refusedKeys.isEmpty, !Task.isCancelled {
                let batch = try await reader.next(on: lease, excluding: pipeline.flatMap(\.ids), deleting: delivered)
                published.increment(by: Int64(delivered.count))
                delivered = []
                guard !batch.ids.isEmpty else { break }
                let deliveries = await producer.enqueue(batch.records, holdingBack: &refusedKeys)
                pipeline.append(InFlightBatch(ids: batch.ids, records: batch.records, deliveries: deliveries))
                // A short batch was all there was: rows committed since then are read with the
                // statement that deletes this batch once it settles (they also notified). A read
                // now would mostly come back empty, one statement per batch more at a light
                // load; under load batches come back full and are read ahead as before.
                if batch.ids.count < configuration.batchSize { break }
            }
            if !delivered.isEmpty {
                try await delete(delivered, on: lease)
                delivered = []
            }
            guard !pipeline.isEmpty else {
                backlog.record(0)
                return true
            }
            let oldest = pipeline.removeFirst()
            let results = await oldest.deliveries.results()
            let outcome = DrainOutcome(results)
            try await park(oldest, outcome)
            delivered = outcome.delivered.map { oldest.ids[$0] }
            if let transient = outcome.transientFailure {
                // Rows after the failure — the rest of this batch and every later batch in
                // flight — stay in the outbox and are sent again with it, delivered or not, so
                // the last message of every key on a compacted topic stays the newest. Their
                // reports are awaited only so that nothing of this drain is left in flight.
                for later in pipeline { _ = await later.deliveries.results() }
                try await delete(delivered, on: lease)
                let failed = results.count - outcome.delivered.count - outcome.refused.count
                // Counted only when the drain stops early; an emptied outbox records 0.
                // Counting after every batch would cost as much as the batch itself.
                let remaining = try await lease.query("SELECT count(*) AS n FROM outbox").first?.decode("n", as: Int.self) ?? 0
                backlog.record(remaining)
                failures.increment(by: Int64(failed))
                health.failing("cannot publish: \(transient)")
                logger.warning("outbox delivery failed; will retry", metadata: ["failed": "\(failed)", "error": "\(transient)"])
                return false
            }
        }
        // Stopping: what was delivered is deleted, so a restart does not send it again.
        if !delivered.isEmpty { try await delete(delivered, on: lease) }
        return true
    }

    private func delete(_ ids: [Int64], on lease: PostgresConnection) async throws {
        guard !ids.isEmpty else { return }
        try await lease.execute("DELETE FROM outbox WHERE id = ANY(\(ids))")
        published.increment(by: Int64(ids.count))
    }

    /// Parks the batch's refused rows, in one transaction.
    private func park(_ batch: InFlightBatch, _ outcome: DrainOutcome) async throws {
        guard !outcome.refused.isEmpty else { return }
        try await pool.withTransaction { transaction in
            for (index, error) in outcome.refused {
                try await self.parked.park(outboxRow: batch.ids[index], error: "\(error)", in: transaction)
            }
        }
        parkedCount.increment(by: Int64(outcome.refused.count))
        for (index, error) in outcome.refused {
            logger.error("outbox row parked: the broker refuses it for good; its key waits until an operator retries or drops it", metadata: [
                "id": "\(batch.ids[index])", "topic": "\(batch.records[index].topic)", "error": "\(error)",
            ])
        }
    }
}

/// Outbox rows handed to the producer whose delivery reports are still arriving.
private struct InFlightBatch: Sendable {
    let ids: [Int64]
    let records: [ProducerRecord]
    let deliveries: PendingDeliveries
}

/// What one batch's delivery reports mean for its rows.
struct DrainOutcome {
    /// Rows to delete: delivered, up to the first transient failure. Rows after that failure are
    /// sent again with it, so the last message of every key on a compacted topic stays the newest.
    var delivered: [Int] = []
    /// Rows the broker refused for good (before the first transient failure): to be parked.
    var refused: [(Int, KafkaError)] = []
    var transientFailure: KafkaError?

    init(_ results: [Result<DeliveryReport, KafkaError>]) {
        for (index, result) in results.enumerated() {
            switch result {
            case .success:
                delivered.append(index)
            case .failure(let error) where error == .heldBack:
                // Stays in the outbox; the next drain skips it while its key has a parked row.
                continue
            case .failure(let error) where error.isPermanentDeliveryFailure:
                refused.append((index, error))
            case .failure(let error):
                transientFailure = error
                return
            }
        }
    }
}

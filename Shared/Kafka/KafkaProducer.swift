import CRdKafka
import Foundation
import Logging

/// An idempotent producer (`enable.idempotence=true`, `acks=all`): librdkafka retries on its own
/// and keeps order per partition. `send` returns once the broker acknowledged the message and
/// throws when delivery finally failed. A dedicated thread serves delivery reports.
public final class KafkaProducer: Sendable {
    private let handle: NativeHandle
    private let pollThread: PollThread
    private let blocking = BlockingQueue(label: "crm.kafka.producer")
    private let logger: Logger

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "crm.kafka.producer")) throws {
        let effective = configuration.withoutConsumerProperties.merged(
            defaults: ["linger.ms": "5", "client.id": "crm"],
            overrides: ["enable.idempotence": "true", "acks": "all"])
        let conf = try effective.makeNativeConfiguration()
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let completion = Unmanaged<DeliveryCompletion>.fromOpaque(opaque).takeRetainedValue()
            let error = message.pointee.err
            if error == RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = String(cString: rd_kafka_topic_name(message.pointee.rkt))
                completion.body(.success(DeliveryReport(
                    topic: topic, partition: message.pointee.partition, offset: message.pointee.offset)))
            } else {
                completion.body(.failure(KafkaError(error)))
            }
        }
        handle = try NativeHandle(type: RD_KAFKA_PRODUCER, conf: conf, context: ClientContext(logger: logger))
        self.logger = logger
        let native = handle
        pollThread = PollThread(name: "crm.kafka.producer.poll") { rd_kafka_poll(native.pointer, 100) }
    }

    /// Sends one message and waits for the broker's acknowledgement.
    @discardableResult
    public func send(_ record: ProducerRecord) async throws -> DeliveryReport {
        try await send([record])[0].get()
    }

    /// Enqueues the records in order and waits for every acknowledgement; one result per record.
    /// Order per partition is kept by the idempotent producer even across retries.
    ///
    /// A record librdkafka refuses for good when it is enqueued (e.g. larger than
    /// `message.max.bytes`) holds back the later records of the same topic and key: they fail
    /// with ``KafkaError/heldBack`` without being sent, so a key's messages never overtake one
    /// that did not go out.
    public func send(_ records: [ProducerRecord]) async -> [Result<DeliveryReport, KafkaError>] {
        var refusedKeys = RefusedKeys()
        return await enqueue(records, holdingBack: &refusedKeys).results()
    }

    /// Enqueues the records in order and returns without waiting for the broker: the caller
    /// awaits ``PendingDeliveries/results()`` when it needs them, and may enqueue more meanwhile
    /// (a pipeline). `refusedKeys` carries the hold-back rule of the batch `send`
    /// across calls: a record whose topic and key were refused at enqueue time, in this call or an
    /// earlier one that shared the set, fails with ``KafkaError/heldBack`` and is not sent.
    public func enqueue(_ records: [ProducerRecord], holdingBack refusedKeys: inout RefusedKeys) async -> PendingDeliveries {
        let collector = ResultCollector(count: records.count)
        for (index, record) in records.enumerated() {
            if refusedKeys.contains(record) {
                collector.set(index, .failure(.heldBack))
                continue
            }
            do {
                try await enqueue(record) { collector.set(index, $0) }
            } catch {
                let failure = error as? KafkaError ?? KafkaError(code: -1, message: "\(error)")
                if failure.isPermanentDeliveryFailure { refusedKeys.insert(record) }
                collector.set(index, .failure(failure))
            }
        }
        return PendingDeliveries(collector: collector)
    }

    /// Learns the topics' partition leaders before the first message. Without it the first
    /// messages of a new idempotent producer wait for its producer id, then for librdkafka's
    /// once-a-second topic scan: up to a second (seen by `crm-bench telephony` as a publish →
    /// ack tail). Optional; a producer works without it. Throws when the metadata does not come.
    public func prepare(topics: [String], timeout: Duration = .seconds(10)) async throws {
        guard !handle.isClosed else { throw KafkaError.closed }
        let native = handle
        let milliseconds = Int32(clamping: max(1, timeout.wholeMilliseconds))
        for topic in topics {
            let error = await blocking.run { () -> rd_kafka_resp_err_t in
                guard let topicHandle = rd_kafka_topic_new(native.pointer, topic, nil) else { return rd_kafka_last_error() }
                defer { rd_kafka_topic_destroy(topicHandle) }
                var metadata: UnsafePointer<rd_kafka_metadata>?
                let error = rd_kafka_metadata(native.pointer, 0, topicHandle, &metadata, milliseconds)
                guard let metadata else { return error }
                defer { rd_kafka_metadata_destroy(metadata) }
                // The request can succeed while the topic itself is unknown or has no leader.
                if error == RD_KAFKA_RESP_ERR_NO_ERROR, metadata.pointee.topic_cnt > 0 {
                    return metadata.pointee.topics[0].err
                }
                return error
            }
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, context: "metadata of \(topic)") }
        }
    }

    /// Waits until every enqueued message was delivered or failed, up to the timeout.
    public func flush(timeout: Duration = .seconds(10)) async {
        let native = handle
        let milliseconds = Int32(timeout.components.seconds * 1000)
        let result = await blocking.run { rd_kafka_flush(native.pointer, milliseconds) }
        if result != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("producer flush timed out", metadata: ["outstanding": "\(rd_kafka_outq_len(native.pointer))"])
        }
    }

    /// Flushes, then fails whatever is still pending, stops the delivery thread and frees the
    /// client. Bounded by `timeout`: a send still waiting when the broker is gone gets a purge
    /// error (`_PURGE_QUEUE` / `_PURGE_INFLIGHT`) instead of hanging.
    public func close(timeout: Duration = .seconds(10)) async {
        guard handle.markClosed() else { return }
        await flush(timeout: timeout)
        let native = handle
        await blocking.run {
            guard rd_kafka_outq_len(native.pointer) > 0 else { return }
            let flags = Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
            _ = rd_kafka_purge(native.pointer, flags)
            // The purged messages' delivery reports are served by the poll thread, still running.
            _ = rd_kafka_flush(native.pointer, 1000)
        }
        await pollThread.stop()
        await blocking.run { native.destroy() }
    }

    private func enqueue(
        _ record: ProducerRecord, completion: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    ) async throws {
        guard !handle.isClosed else { throw KafkaError.closed }
        let opaque = Unmanaged.passRetained(DeliveryCompletion(completion)).toOpaque()
        var attempt = 0
        while true {
            let error = produce(record, opaque: opaque)
            guard let error else { return }
            let kafkaError = KafkaError(consuming: error)
            // A full local queue drains as the broker acknowledges; wait without blocking a thread.
            if kafkaError.code == RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue, attempt < 10_000, !handle.isClosed {
                attempt += 1
                do {
                    try await Task.sleep(for: .milliseconds(1))
                } catch {
                    Unmanaged<DeliveryCompletion>.fromOpaque(opaque).release()
                    throw error
                }
                continue
            }
            Unmanaged<DeliveryCompletion>.fromOpaque(opaque).release()
            throw kafkaError
        }
    }

    /// One `rd_kafka_produceva` call; headers are handed to librdkafka only on success.
    private func produce(_ record: ProducerRecord, opaque: UnsafeMutableRawPointer) -> OpaquePointer? {
        let headers = rd_kafka_headers_new(record.headers.count)!
        for header in record.headers {
            if let value = header.value {
                value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
                }
            } else {
                _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
            }
        }
        let key = record.key ?? []
        let value = record.value ?? []
        let error: OpaquePointer? = record.topic.withCString { topic in
            key.withUnsafeBytes { keyBytes in
                value.withUnsafeBytes { valueBytes in
                    var values = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 6)
                    values[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    values[0].u.cstr = topic
                    values[1].vtype = RD_KAFKA_VTYPE_KEY
                    values[1].u.mem = .init(
                        ptr: record.key == nil ? nil : UnsafeMutableRawPointer(mutating: keyBytes.baseAddress),
                        size: record.key == nil ? 0 : keyBytes.count)
                    values[2].vtype = RD_KAFKA_VTYPE_VALUE
                    values[2].u.mem = .init(
                        ptr: record.value == nil ? nil : UnsafeMutableRawPointer(mutating: valueBytes.baseAddress),
                        size: record.value == nil ? 0 : valueBytes.count)
                    values[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    values[3].u.i = RD_KAFKA_MSG_F_COPY
                    values[4].vtype = RD_KAFKA_VTYPE_HEADERS
                    values[4].u.headers = headers
                    values[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    values[5].u.ptr = opaque
                    return rd_kafka_produceva(handle.pointer, values, values.count)
                }
            }
        }
        if error != nil { rd_kafka_headers_destroy(headers) }
        return error
    }
}

/// The callback a delivery report resumes; retained across the C boundary as the message opaque.
private final class DeliveryCompletion: Sendable {
    let body: @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    init(_ body: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) { self.body = body }
}

/// The delivery reports of records ``KafkaProducer/enqueue(_:holdingBack:)`` handed to
/// librdkafka, arriving on the producer's poll thread.
public struct PendingDeliveries: Sendable {
    fileprivate let collector: ResultCollector

    /// One result per record, in order, once all arrived; cancelling the waiting task returns at
    /// once with the missing ones failed as ``KafkaError/cancelled``.
    public func results() async -> [Result<DeliveryReport, KafkaError>] {
        await collector.results()
    }
}

/// The topics and keys whose record librdkafka refused for good at enqueue time: their later
/// records are held back (per-key order). Share one set across the calls of a pipeline.
public struct RefusedKeys: Sendable {
    private struct TopicKey: Hashable {
        let topic: String
        let key: [UInt8]?
    }

    private var keys: Set<TopicKey> = []

    public init() {}

    public var isEmpty: Bool { keys.isEmpty }

    func contains(_ record: ProducerRecord) -> Bool {
        !keys.isEmpty && keys.contains(TopicKey(topic: record.topic, key: record.key))
    }

    mutating func insert(_ record: ProducerRecord) {
        keys.insert(TopicKey(topic: record.topic, key: record.key))
    }
}

/// Gathers one result per record; `results()` returns once all arrived, or at once when the
/// waiting task is cancelled (the missing ones then fail with `cancelled`, and reports that
/// arrive later are ignored), so a relay or consumer stopping never waits out
/// `message.timeout.ms` for a broker that is gone.
private final class ResultCollector: @unchecked Sendable {
    // All state is guarded by `lock`; delivery reports arrive on the poll thread.
    private let lock = NSLock()
    private var slots: [Result<DeliveryReport, KafkaError>?]
    private var remaining: Int
    private var abandoned = false
    private var waiter: CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>?

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
        remaining = count
    }

    func set(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        lock.lock()
        guard !abandoned, slots[index] == nil else {
            lock.unlock()
            return
        }
        slots[index] = result
        remaining -= 1
        let resume = remaining == 0 ? waiter : nil
        if resume != nil { waiter = nil }
        let finished = resume != nil ? slots.map { $0! } : []
        lock.unlock()
        resume?.resume(returning: finished)
    }

    func results() async -> [Result<DeliveryReport, KafkaError>] {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                lock.lock()
                if remaining == 0 || abandoned {
                    let finished = slots.map { $0 ?? .failure(.cancelled) }
                    lock.unlock()
                    continuation.resume(returning: finished)
                } else {
                    waiter = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            abandon()
        }
    }

    private func abandon() {
        lock.lock()
        abandoned = true
        let resume = waiter
        waiter = nil
        let finished = slots.map { $0 ?? .failure(.cancelled) }
        lock.unlock()
        resume?.resume(returning: finished)
    }
}

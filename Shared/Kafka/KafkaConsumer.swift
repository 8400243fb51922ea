import CRdKafka
import Foundation
import Logging

/// A consumer-group member with manual offsets: nothing is committed until the caller says a
/// batch is done (`commit`), so a crash replays the uncommitted batch instead of skipping it.
///
/// Every librdkafka call runs on the consumer's own serial queue. The caller is expected to
/// alternate `poll` → process → `commit`; rebalances are served inside `poll`, so they never
/// happen while a batch is being processed. If a partition is revoked in the middle of collecting
/// a batch, its messages are dropped from that batch at that moment: the partition's next owner
/// (maybe this member again) reads them from the committed offset, so nothing is skipped.
public final class KafkaConsumer: Sendable {
    public let groupID: String
    private let handle: NativeHandle
    private let state: ConsumerState
    private let blocking = BlockingQueue(label: "crm.kafka.consumer")
    private let logger: Logger

    /// The prefetch budget of a consumer (`queued.max.messages.kbytes`) unless configured.
    public static let defaultPrefetchKilobytes = 8192

    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String],
        logger: Logger = Logger(label: "crm.kafka.consumer")
    ) throws {
        let effective = configuration.merged(
            defaults: [
                "auto.offset.reset": "earliest", "client.id": "crm",
                // How long a broker may hold a fetch that finds no new data. librdkafka's 500 ms
                // is invisible on a real broker, which answers as soon as data arrives, but the
                // dev broker (the mock cluster) holds every empty fetch for the full wait and
                // ignores what is produced meanwhile: each hop of a light load then waits up to
                // 500 ms. A short wait costs only idle fetch requests.
                "fetch.wait.max.ms": KafkaConsumer.defaultFetchWaitMilliseconds,
                // Prefetch bounds memory, not speed: a few batches' worth keeps the runtime fed,
                // while librdkafka's 64 MB per consumer would be most of a service's memory
                // budget during a burst (librdkafka caps fetch.max.bytes to it).
                "queued.max.messages.kbytes": String(KafkaConsumer.defaultPrefetchKilobytes),
            ],
            overrides: [
                "group.id": groupID,
                "enable.auto.commit": "false",
                "enable.auto.offset.store": "false",
                "enable.partition.eof": "false",
            ])
        let conf = try effective.makeNativeConfiguration()
        let state = ConsumerState(
            logger: logger,
            cooperativeConfigured: effective.properties["partition.assignment.strategy"]?.contains("cooperative") ?? false)
        rd_kafka_conf_set_rebalance_cb(conf) { rk, error, partitions, opaque in
            guard let rk, let opaque else { return }
            Unmanaged<ConsumerState>.fromOpaque(opaque).takeUnretainedValue()
                .rebalance(rk, error: error, partitions: partitions)
        }
        handle = try NativeHandle(type: RD_KAFKA_CONSUMER, conf: conf, context: state)
        rd_kafka_poll_set_consumer(handle.pointer)

        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let error = rd_kafka_subscribe(handle.pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            handle.destroy()
            throw KafkaError(error, context: "subscribe")
        }
        self.groupID = groupID
        self.state = state
        self.logger = logger
    }

    /// The default `fetch.wait.max.ms` (`CRM_KAFKA_FETCH_WAIT_MAX_MS` overrides it).
    public static let defaultFetchWaitMilliseconds = "25"

    /// Waits up to `timeout` for the first message, then takes what librdkafka already holds
    /// locally (up to `maxMessages`) and returns without waiting for more: a light load is
    /// handled as it arrives instead of waiting for a full batch, and under a heavy load the
    /// batches fill from the prefetched queue on their own. An empty array means nothing
    /// arrived in time.
    public func poll(maxMessages: Int, timeout: Duration) async throws -> [KafkaMessage] {
        guard !handle.isClosed else { throw KafkaError.closed }
        let native = handle
        let state = state
        let logger = logger
        let budget = Int(timeout.wholeMilliseconds)
        return try await blocking.run {
            let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, budget)) * 1_000_000
            state.batch.removeAll()
            defer { state.batch.removeAll() }
            // Set once a message (or an error) came: from then on only what is already queued.
            var drainingQueue = false
            while state.batch.count < maxMessages {
                let wait: Int32
                if drainingQueue {
                    wait = 0
                } else {
                    let now = DispatchTime.now().uptimeNanoseconds
                    guard now < deadline else { break }
                    // Short slices keep rebalances and a closing handle served while idle.
                    wait = max(1, Int32(min(100, (deadline - now) / 1_000_000)))
                }
                guard let message = rd_kafka_consumer_poll(native.pointer, wait) else {
                    if drainingQueue { break }
                    continue
                }
                defer { rd_kafka_message_destroy(message) }
                let error = message.pointee.err
                if error != RD_KAFKA_RESP_ERR_NO_ERROR {
                    if error == RD_KAFKA_RESP_ERR__FATAL { throw KafkaError(error, context: "consumer") }
                    logger.warning("consumer error", metadata: ["error": "\(KafkaError(error))"])
                    continue
                }
                state.batch.append(KafkaMessage(copying: message))
                drainingQueue = true
            }
            return state.batch
        }
    }

    /// Commits, synchronously, the offsets after the highest message of each partition in `messages`.
    public func commit(_ messages: [KafkaMessage]) async throws {
        var next: [TopicPartition: Int64] = [:]
        for message in messages {
            let key = TopicPartition(topic: message.topic, partition: message.partition)
            next[key] = max(next[key] ?? 0, message.offset + 1)
        }
        guard !next.isEmpty else { return }
        let offsets = next
        let native = handle
        try await blocking.run {
            let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (partition, offset) in offsets {
                rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)!.pointee.offset = offset
            }
            let error = rd_kafka_commit(native.pointer, list, 0)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, context: "commit") }
        }
    }

    /// The partitions currently assigned to this member.
    public func assignment() async throws -> [TopicPartition] {
        let native = handle
        return try await blocking.run {
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            let error = rd_kafka_assignment(native.pointer, &list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw KafkaError(error, context: "assignment") }
            defer { rd_kafka_topic_partition_list_destroy(list) }
            return TopicPartition.array(from: list)
        }
    }

    /// Leaves the group (revoking partitions so others take over at once) and frees the client.
    public func close() async {
        guard handle.markClosed() else { return }
        let native = handle
        await blocking.run {
            _ = rd_kafka_consumer_close(native.pointer)
            native.destroy()
        }
    }
}

public struct TopicPartition: Hashable, Sendable {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    static func array(from list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return TopicPartition(topic: String(cString: element.topic), partition: element.partition)
        }
    }
}

/// State the rebalance callback shares with `poll`; both run on the consumer's serial queue.
private final class ConsumerState: ClientContext, @unchecked Sendable {
    /// The batch `poll` is collecting. A revocation removes that partition's messages at once, so
    /// a partition revoked and assigned back within one poll keeps only what came after.
    var batch: [KafkaMessage] = []
    /// Whether the configured assignment strategy is cooperative: the answer when librdkafka
    /// cannot name the group's protocol (it returns NULL when it cannot ask the group).
    let cooperativeConfigured: Bool

    init(logger: Logger, cooperativeConfigured: Bool) {
        self.cooperativeConfigured = cooperativeConfigured
        super.init(logger: logger)
    }

    func rebalance(
        _ rk: OpaquePointer, error: rd_kafka_resp_err_t,
        partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) == "COOPERATIVE" } ?? cooperativeConfigured
        let changed = partitions.map(TopicPartition.array(from:)) ?? []
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            logger.info("partitions assigned", metadata: ["partitions": "\(changed.count)"])
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, partitions) { _ = KafkaError(consuming: error) }
            } else {
                rd_kafka_assign(rk, partitions)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            logger.info("partitions revoked", metadata: ["partitions": "\(changed.count)"])
            let revoked = Set(changed)
            batch.removeAll { revoked.contains(TopicPartition(topic: $0.topic, partition: $0.partition)) }
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, partitions) { _ = KafkaError(consuming: error) }
            } else {
                rd_kafka_assign(rk, nil)
            }
        default:
            logger.warning("rebalance error", metadata: ["error": "\(KafkaError(error))"])
            rd_kafka_assign(rk, nil)
        }
    }
}

extension KafkaMessage {
    /// Copies everything out of a librdkafka message so it can be destroyed at once. Takes the
    /// original pointer: librdkafka finds headers and timestamp from the message's address.
    init(copying pointer: UnsafeMutablePointer<rd_kafka_message_t>) {
        let message = pointer.pointee
        let topic = String(cString: rd_kafka_topic_name(message.rkt))
        let key = message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) }
        let value = message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) }
        var headers: [KafkaHeader] = []
        var native: OpaquePointer?
        if rd_kafka_message_headers(pointer, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(KafkaHeader(
                    name: name.map { String(cString: $0) } ?? "",
                    value: bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(pointer, &timestampType)
        self.init(
            topic: topic, partition: message.partition, offset: message.offset, key: key, value: value,
            headers: headers, timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }
}

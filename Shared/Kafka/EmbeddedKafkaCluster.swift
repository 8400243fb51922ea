import CRdKafka
import Logging

/// An in-process Kafka-protocol cluster (librdkafka's mock cluster) for tests and local runs.
/// Any client — in this process, kcat, other services — can connect to `bootstrapServers`.
/// It keeps data in memory and cannot create topics through the admin API, so create them here.
public final class EmbeddedKafkaCluster: Sendable {
    public let bootstrapServers: String
    public let brokerCount: Int
    private let handle: NativeHandle
    private let cluster: MockClusterPointer
    private let blocking = BlockingQueue(label: "crm.kafka.embedded")

    public init(brokers: Int = 3, logger: Logger = Logger(label: "crm.kafka.embedded")) throws {
        // The mock cluster needs a client instance to live in; a producer with no brokers will do.
        let conf = rd_kafka_conf_new()!
        rd_kafka_conf_set(conf, "client.id", "crm-embedded", nil, 0)
        // This handle never connects anywhere; skip the notice that it has no bootstrap servers.
        rd_kafka_conf_set(conf, "log_level", "4", nil, 0)
        handle = try NativeHandle(type: RD_KAFKA_PRODUCER, conf: conf, context: ClientContext(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(handle.pointer, Int32(brokers)) else {
            handle.destroy()
            throw KafkaError.configuration("could not start the embedded Kafka cluster")
        }
        self.cluster = MockClusterPointer(pointer: cluster)
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerCount = brokers
    }

    /// Creates a topic; the mock cluster ignores topic-level config such as the cleanup policy.
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) async throws {
        let cluster = cluster
        let replication = Int32(min(replicationFactor, brokerCount))
        try await blocking.run {
            let error = rd_kafka_mock_topic_create(cluster.pointer, name, Int32(partitions), replication)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, context: "create topic \(name)") }
        }
    }

    public func createTopics(_ topics: [TopicSpec]) async throws {
        for topic in topics {
            try await createTopic(topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor)
        }
    }

    /// Makes the next requests of one Kafka API fail with these error codes, in order
    /// (e.g. API key 0 = Produce, error 6 = NOT_LEADER_OR_FOLLOWER).
    public func pushRequestErrors(apiKey: Int16, errors: [Int32]) async {
        let cluster = cluster
        await blocking.run {
            var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
            rd_kafka_mock_push_request_errors_array(cluster.pointer, apiKey, codes.count, &codes)
        }
    }

    /// Takes a broker (1-based id) off the network; its clients see disconnects.
    public func setBrokerDown(_ brokerID: Int32) async throws {
        let cluster = cluster
        try await blocking.run {
            let error = rd_kafka_mock_broker_set_down(cluster.pointer, brokerID)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, context: "broker down") }
        }
    }

    public func setBrokerUp(_ brokerID: Int32) async throws {
        let cluster = cluster
        try await blocking.run {
            let error = rd_kafka_mock_broker_set_up(cluster.pointer, brokerID)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, context: "broker up") }
        }
    }

    /// Makes a broker (1-based id) the leader of one partition, so a test knows which
    /// partitions a broker taken down blocks (the mock cluster does not move leaders by itself).
    public func setPartitionLeader(topic: String, partition: Int32, brokerID: Int32) async throws {
        let cluster = cluster
        try await blocking.run {
            let error = rd_kafka_mock_partition_set_leader(cluster.pointer, topic, partition, brokerID)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error, context: "partition leader") }
        }
    }

    /// Stops the cluster and frees it. Clients still connected see the brokers go away.
    public func shutdown() async {
        guard handle.markClosed() else { return }
        let cluster = cluster
        let native = handle
        await blocking.run {
            rd_kafka_mock_cluster_destroy(cluster.pointer)
            native.destroy()
        }
    }
}

/// The mock cluster pointer; librdkafka serialises access to it internally.
struct MockClusterPointer: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Kafka API keys and error codes that fault-injection tests use.
public enum KafkaProtocol {
    public static let produceAPI: Int16 = 0
    public static let fetchAPI: Int16 = 1
    public static let offsetCommitAPI: Int16 = 8
    public static let notLeaderForPartition: Int32 = 6
    public static let requestTimedOut: Int32 = 7
    public static let notEnoughReplicas: Int32 = 19
    public static let brokerNotAvailable: Int32 = 8
}

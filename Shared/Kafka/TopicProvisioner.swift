import CRdKafka
import Logging

/// How a topic should look on a real cluster.
public struct TopicSpec: Sendable, Equatable {
    public var name: String
    public var partitions: Int
    public var replicationFactor: Int
    /// Topic-level settings such as `cleanup.policy`, `retention.ms`, `min.insync.replicas`.
    public var config: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// Creates missing topics with the CreateTopics admin API. Brokers without that API (the
/// embedded mock cluster) are reported as `.unsupported`, and callers carry on: topics there are
/// created by whoever runs the broker.
public enum TopicProvisioner {
    public enum Outcome: Sendable, Equatable {
        case created
        case alreadyExists
        case unsupported(String)
        case failed(KafkaError)
    }

    public static func ensure(
        _ topics: [TopicSpec], configuration: KafkaConfiguration, timeout: Duration = .seconds(15),
        logger: Logger = Logger(label: "crm.kafka.topics")
    ) async throws -> [String: Outcome] {
        guard !topics.isEmpty else { return [:] }
        let conf = try configuration.withoutConsumerProperties.merged(defaults: ["client.id": "crm-topics"])
            .makeNativeConfiguration()
        let handle = try NativeHandle(type: RD_KAFKA_PRODUCER, conf: conf, context: ClientContext(logger: logger))
        let milliseconds = Int32(timeout.components.seconds * 1000)
        let outcomes = await BlockingQueue(label: "crm.kafka.topics").run {
            defer { handle.destroy() }
            return createTopics(topics, on: handle.pointer, timeoutMilliseconds: milliseconds)
        }
        for (topic, outcome) in outcomes.sorted(by: { $0.key < $1.key }) {
            switch outcome {
            case .created: logger.info("created topic", metadata: ["topic": "\(topic)"])
            case .alreadyExists: break
            case .unsupported(let reason):
                logger.notice("broker cannot create topics; expecting them to exist", metadata: ["topic": "\(topic)", "reason": "\(reason)"])
            case .failed(let error):
                logger.warning("could not create topic", metadata: ["topic": "\(topic)", "error": "\(error)"])
            }
        }
        return outcomes
    }

    /// Blocking: runs on a dedicated queue. Asks the cluster which topics exist first, so a start
    /// against a cluster that has them all sends no admin request at all.
    private static func createTopics(
        _ topics: [TopicSpec], on rk: OpaquePointer, timeoutMilliseconds: Int32
    ) -> [String: Outcome] {
        let existing = existingTopics(on: rk, timeoutMilliseconds: timeoutMilliseconds)
        var outcomes: [String: Outcome] = [:]
        for topic in topics where existing.contains(topic.name) { outcomes[topic.name] = .alreadyExists }
        let missing = topics.filter { !existing.contains($0.name) }
        guard !missing.isEmpty else { return outcomes }
        return outcomes.merging(requestCreation(missing, on: rk, timeoutMilliseconds: timeoutMilliseconds)) { $1 }
    }

    private static func existingTopics(on rk: OpaquePointer, timeoutMilliseconds: Int32) -> Set<String> {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        guard rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            return []
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        var names = Set<String>()
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            if topic.err == RD_KAFKA_RESP_ERR_NO_ERROR { names.insert(String(cString: topic.topic)) }
        }
        return names
    }

    private static func requestCreation(
        _ topics: [TopicSpec], on rk: OpaquePointer, timeoutMilliseconds: Int32
    ) -> [String: Outcome] {
        var errorText = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(
                topic.name, Int32(topic.partitions), Int32(topic.replicationFactor), &errorText, errorText.count)
            else {
                return [topic.name: .failed(.configuration(nulTerminated(errorText)))]
            }
            for (name, value) in topic.config { _ = rd_kafka_NewTopic_set_config(newTopic, name, value) }
            newTopics.append(newTopic)
        }
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errorText, errorText.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
        }

        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 2000) else {
            return Dictionary(uniqueKeysWithValues: topics.map { ($0.name, Outcome.unsupported("no answer in time")) })
        }
        defer { rd_kafka_event_destroy(event) }
        let eventError = rd_kafka_event_error(event)
        if eventError != RD_KAFKA_RESP_ERR_NO_ERROR {
            let reason = String(cString: rd_kafka_event_error_string(event))
            return Dictionary(uniqueKeysWithValues: topics.map { ($0.name, Outcome.unsupported(reason)) })
        }
        var outcomes: [String: Outcome] = [:]
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
              let results = rd_kafka_CreateTopics_result_topics(result, &count)
        else { return outcomes }
        for index in 0..<count {
            let topicResult = results[index]
            let name = String(cString: rd_kafka_topic_result_name(topicResult))
            let error = rd_kafka_topic_result_error(topicResult)
            switch error {
            case RD_KAFKA_RESP_ERR_NO_ERROR: outcomes[name] = .created
            case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcomes[name] = .alreadyExists
            case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
                outcomes[name] = .unsupported(String(cString: rd_kafka_err2str(error)))
            default:
                let text = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
                outcomes[name] = .failed(KafkaError(error, context: text))
            }
        }
        return outcomes
    }
}

import CRdKafka

/// A librdkafka error: its numeric code (`rd_kafka_resp_err_t`) and text.
public struct KafkaError: Error, Sendable, CustomStringConvertible, Equatable {
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(_ error: rd_kafka_resp_err_t, context: String? = nil) {
        code = error.rawValue
        let text = String(cString: rd_kafka_err2str(error))
        message = context.map { "\($0): \(text)" } ?? text
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer) {
        code = rd_kafka_error_code(error).rawValue
        message = String(cString: rd_kafka_error_string(error))
        rd_kafka_error_destroy(error)
    }

    static func configuration(_ message: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: message)
    }

    /// The commit was refused because this member no longer owns the partitions (a rebalance
    /// moved them): whoever owns them now reads from the last committed offset.
    public var isGroupMembershipLost: Bool {
        [RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION, RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS]
            .map(\.rawValue).contains(code)
    }

    /// The broker (or librdkafka before it) refuses this message for good: sending it again can
    /// never succeed (too large, a topic that does not exist or we may not write, a record the
    /// broker calls invalid). Everything else — timeouts, brokers down, leader changes — is
    /// worth retrying.
    public var isPermanentDeliveryFailure: Bool {
        [
            RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_RECORD,
            RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
            RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
            RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS, RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,
        ].map(\.rawValue).contains(code)
    }

    /// The client failed for good (`RD_KAFKA_RESP_ERR__FATAL`) and must be replaced.
    public var isFatal: Bool { code == RD_KAFKA_RESP_ERR__FATAL.rawValue }

    /// Not sent because an earlier record of the same topic and key was refused for good
    /// (``KafkaProducer/send(_:)``); it may go out once that one is dealt with.
    public static let heldBack = KafkaError(code: RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS.rawValue, message: "held back behind a refused message of the same key")

    /// The sending task was cancelled before the broker answered; the message may still arrive.
    public static let cancelled = KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "cancelled while waiting for the broker")

    public static let closed = KafkaError(code: RD_KAFKA_RESP_ERR__DESTROY.rawValue, message: "client is closed")

    public var description: String { "Kafka error \(code): \(message)" }
}

/// librdkafka writes error text into caller-provided buffers; read up to the first NUL.
func nulTerminated(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

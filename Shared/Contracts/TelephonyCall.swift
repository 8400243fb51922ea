import Foundation

/// One finished call, as a PBX or CTI connector publishes it on `crm.telephony.calls.v1`
/// (key = `callId`), either bare or as the `data` of a CloudEvent of type `crm.telephony.call`.
public struct TelephonyCall: Codable, Sendable, Equatable {
    public enum Direction: String, Codable, Sendable { case inbound, outbound }
    public enum Status: String, Codable, Sendable { case answered, missed, busy, failed }

    public var callId: String
    public var direction: Direction
    public var from: String
    public var to: String
    public var `extension`: String?
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date
    public var status: Status
    public var recordingUrl: String?

    public init(
        callId: String, direction: Direction, from: String, to: String, extension: String?,
        startedAt: Date, answeredAt: Date?, endedAt: Date, status: Status, recordingUrl: String?
    ) {
        self.callId = callId
        self.direction = direction
        self.from = from
        self.to = to
        self.extension = `extension`
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.status = status
        self.recordingUrl = recordingUrl
    }

    public static let cloudEventType = "crm.telephony.call"

    public enum InvalidMessage: Error, CustomStringConvertible {
        case notJSON
        case wrongEventType(String)
        case invalid(String)

        public var description: String {
            switch self {
            case .notJSON: "the message value is not a JSON object"
            case .wrongEventType(let type): "CloudEvent type '\(type)' is not \(TelephonyCall.cloudEventType)"
            case .invalid(let reason): reason
            }
        }
    }

    /// Reads a call message in either accepted form and checks what the schema cannot express,
    /// in one pass over the JSON (a burst brings hundreds of thousands of these).
    public static func decode(from value: [UInt8]) throws -> TelephonyCall {
        let call: TelephonyCall
        do {
            call = try CRMJSONDecoder().decode(CallMessage.self, from: value).call
        } catch let error as InvalidMessage {
            throw error
        } catch let error as DecodingError {
            // Not parseable, or not an object at the top: not a call message at all.
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty, .typeMismatch(_, let context) where context.codingPath.isEmpty:
                throw InvalidMessage.notJSON
            default:
                throw InvalidMessage.invalid(error.reason)
            }
        }
        guard !call.callId.isEmpty else { throw InvalidMessage.invalid("callId is empty") }
        guard call.endedAt >= call.startedAt else { throw InvalidMessage.invalid("endedAt is before startedAt") }
        return call
    }

    /// A bare call object, or a CloudEvent (it has `specversion`) whose `data` is one.
    private struct CallMessage: Decodable {
        private enum Key: String, CodingKey { case specversion, type, data }

        var call: TelephonyCall

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            guard container.contains(.specversion) else {
                call = try TelephonyCall(from: decoder)
                return
            }
            let type = try container.decode(String.self, forKey: .type)
            guard type == TelephonyCall.cloudEventType else { throw InvalidMessage.wrongEventType(type) }
            call = try container.decode(TelephonyCall.self, forKey: .data)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case callId, direction, from, to, `extension`, startedAt, answeredAt, endedAt, status, recordingUrl
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            callId: try c.decode(String.self, forKey: .callId), direction: try c.decode(Direction.self, forKey: .direction),
            from: try c.decode(String.self, forKey: .from), to: try c.decode(String.self, forKey: .to),
            extension: try c.decodeIfPresent(String.self, forKey: .extension),
            startedAt: try c.decodeTimestamp(forKey: .startedAt), answeredAt: try c.decodeTimestampIfPresent(forKey: .answeredAt),
            endedAt: try c.decodeTimestamp(forKey: .endedAt), status: try c.decode(Status.self, forKey: .status),
            recordingUrl: try c.decodeIfPresent(String.self, forKey: .recordingUrl))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(callId, forKey: .callId)
        try c.encode(direction, forKey: .direction)
        try c.encode(from, forKey: .from)
        try c.encode(to, forKey: .to)
        try c.encodeIfPresent(`extension`, forKey: .extension)
        try c.encodeTimestamp(startedAt, forKey: .startedAt)
        if let answeredAt { try c.encodeTimestamp(answeredAt, forKey: .answeredAt) }
        try c.encodeTimestamp(endedAt, forKey: .endedAt)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(recordingUrl, forKey: .recordingUrl)
    }
}

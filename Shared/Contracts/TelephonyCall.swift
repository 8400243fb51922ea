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

    /// Reads a call message in either accepted form and checks what the schema cannot express.
    public static func decode(from value: [UInt8]) throws -> TelephonyCall {
        let data = Data(value)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InvalidMessage.notJSON
        }
        let decoder = CRMJSON.makeDecoder()
        let call: TelephonyCall
        do {
            if object["specversion"] != nil {
                let envelope = try decoder.decode(CallEnvelope.self, from: data)
                guard envelope.type == cloudEventType else { throw InvalidMessage.wrongEventType(envelope.type) }
                call = envelope.data
            } else {
                call = try decoder.decode(TelephonyCall.self, from: data)
            }
        } catch let error as InvalidMessage {
            throw error
        } catch let error as DecodingError {
            throw InvalidMessage.invalid(error.reason)
        }
        guard !call.callId.isEmpty else { throw InvalidMessage.invalid("callId is empty") }
        guard call.endedAt >= call.startedAt else { throw InvalidMessage.invalid("endedAt is before startedAt") }
        return call
    }

    private struct CallEnvelope: Decodable {
        var type: String
        var data: TelephonyCall
    }
}

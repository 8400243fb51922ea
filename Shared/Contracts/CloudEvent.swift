import Foundation
// Every payload writes its ids with `UUID.lowercasedText`; modules importing Contracts use it too.
@_exported import TextFormat

/// The envelope of every message we publish (CloudEvents 1.0, structured JSON mode), see
/// TOPICS.md. `data` is always the full snapshot of the aggregate after the change.
public struct CloudEvent<Payload: Codable & Sendable>: Codable, Sendable {
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var subject: String
    public var time: Date
    public var datacontenttype: String
    public var version: Int64
    public var data: Payload

    public init(
        id: String = UUID().lowercasedText, source: String, type: String, subject: String,
        time: Date = Date(), version: Int64, data: Payload
    ) {
        specversion = "1.0"
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        datacontenttype = "application/json"
        self.version = version
        self.data = data
    }

    /// The content type of the Kafka message value.
    public static var contentType: String { "application/cloudevents+json" }

    private enum CodingKeys: String, CodingKey {
        case specversion, id, source, type, subject, time, datacontenttype, version, data
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        specversion = try container.decode(String.self, forKey: .specversion)
        id = try container.decode(String.self, forKey: .id)
        source = try container.decode(String.self, forKey: .source)
        type = try container.decode(String.self, forKey: .type)
        subject = try container.decode(String.self, forKey: .subject)
        time = try container.decodeTimestamp(forKey: .time)
        datacontenttype = try container.decode(String.self, forKey: .datacontenttype)
        version = try container.decode(Int64.self, forKey: .version)
        data = try container.decode(Payload.self, forKey: .data)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(specversion, forKey: .specversion)
        try container.encode(id, forKey: .id)
        try container.encode(source, forKey: .source)
        try container.encode(type, forKey: .type)
        try container.encode(subject, forKey: .subject)
        try container.encodeTimestamp(time, forKey: .time)
        try container.encode(datacontenttype, forKey: .datacontenttype)
        try container.encode(version, forKey: .version)
        try container.encode(data, forKey: .data)
    }
}

/// The envelope without its payload, for routing and version checks before decoding `data`.
public struct CloudEventHeader: Codable, Sendable {
    public var specversion: String
    public var id: String
    public var source: String
    public var type: String
    public var subject: String?
    public var version: Int64?
}

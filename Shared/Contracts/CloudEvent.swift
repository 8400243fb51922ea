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

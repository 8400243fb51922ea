import Contracts
import Foundation
import Kafka

extension KafkaMessage {
    /// The message as a CloudEvent with the topic's typed payload (Contracts). A value that is
    /// not one is a permanent failure naming the offending field, so it goes to the DLQ.
    public func cloudEvent<Payload: Codable & Sendable>(of payload: Payload.Type) throws -> CloudEvent<Payload> {
        do {
            return try CRMJSONDecoder().decode(CloudEvent<Payload>.self, from: value ?? [])
        } catch let error as DecodingError {
            throw PermanentFailure("not a CloudEvent snapshot of \(topic): \(error.reason)")
        } catch {
            throw PermanentFailure("not a CloudEvent snapshot of \(topic): \(error)")
        }
    }
}

extension KafkaMessage {
    /// A catalog topic's message: the object id, whether it is a deletion (by its mark or its
    /// type), the envelope's version and the catalog's own fields.
    public func catalogSnapshot<Fields: CatalogFields>(
        _ fields: Fields.Type
    ) throws -> (id: UUID, deleted: Bool, version: Int64, fields: Fields) {
        let event = try cloudEvent(of: CatalogSnapshot<Fields>.self)
        return (event.data.id, event.isDeletion, event.version, event.data.fields)
    }
}

extension CloudEvent where Payload: CatalogSnapshotProtocol {
    /// Deleted by its mark or by its type (`crm.<kind>.deleted`).
    public var isDeletion: Bool { data.deleted || type.hasSuffix(".deleted") }
}

import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps the ids of events and orders seen on `crm.events.v1` and `crm.documents.v1`, so values
/// can be attached to them, with their author and responsible employee (who, besides admins,
/// may change those values). The newest version wins.
struct KnownObjectsHandler: BatchMessageHandler {
    /// The envelope and the members of an event or order snapshot this projection needs, read
    /// in one pass over the message (every event of a burst comes through here). Owners that
    /// cannot be read are left out rather than refusing the message.
    private struct Envelope: Decodable {
        struct Owners: Decodable {
            var authorId: String?
            var responsibleId: String?
        }
        private enum Key: String, CodingKey { case data }

        var header: CloudEventHeader
        var owners: Owners?

        init(from decoder: any Decoder) throws {
            header = try CloudEventHeader(from: decoder)
            owners = try? decoder.container(keyedBy: Key.self).decodeIfPresent(Owners.self, forKey: .data)
        }
    }

    /// One event or order seen on a topic; nil for other documents (not ours to track).
    struct KnownObject: Sendable {
        var id: UUID
        var kind: ObjectKind
        var deleted: Bool
        var version: Int64
        var authorId: String?
        var responsibleId: String?
    }

    func decode(_ message: KafkaMessage) throws -> KnownObject? {
        let envelope: Envelope
        do {
            envelope = try CRMJSONDecoder().decode(Envelope.self, from: message.value ?? [])
        } catch let error as DecodingError {
            throw PermanentFailure("not a CloudEvent: \(error.reason)")
        } catch {
            throw PermanentFailure("not a CloudEvent: \(error)")
        }
        let header = envelope.header
        let kind: ObjectKind
        if header.type.hasPrefix("crm.event.") {
            kind = .event
        } else if header.type.hasPrefix("crm.customer-order.") {
            kind = .customerOrder
        } else if header.type.hasPrefix("crm.supplier-order.") {
            kind = .supplierOrder
        } else {
            return nil // Another document type on the topic: not ours to track.
        }
        guard let subject = header.subject, let id = UUID(uuidString: subject) else {
            throw PermanentFailure("\(header.type) without a UUID subject")
        }
        guard let version = header.version else { throw PermanentFailure("\(header.type) without a version") }
        let owners = envelope.owners
        return KnownObject(
            id: id, kind: kind, deleted: header.type.hasSuffix(".deleted"), version: version,
            authorId: owners?.authorId?.lowercased(), responsibleId: owners?.responsibleId?.lowercased())
    }

    /// One multi-row upsert for the batch, sent with the commit. Newer versions win; an equal version may still fill
    /// in owners that rows projected before owners were kept lack (a `crm republish events`
    /// after the upgrade does that).
    func apply(_ batch: [KnownObject?], in transaction: PostgresTransaction) async throws {
        let objects = Self.onePerObject(batch.compactMap { $0 })
        for chunk in PostgresQuery.statementChunks(objects, width: 6) {
            try transaction.executeLater(.withValues(
                "INSERT INTO known_objects (id, kind, deleted, version, author_id, responsible_id) VALUES",
                chunk.map { object -> [(any PostgresEncodable)?] in
                    [object.id, object.kind.rawValue, object.deleted, object.version, object.authorId, object.responsibleId]
                },
                """
                ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, deleted = EXCLUDED.deleted, version = EXCLUDED.version,
                    author_id = EXCLUDED.author_id, responsible_id = EXCLUDED.responsible_id
                WHERE known_objects.version < EXCLUDED.version
                    OR (known_objects.version = EXCLUDED.version AND known_objects.author_id IS NULL AND EXCLUDED.author_id IS NOT NULL)
                """))
        }
    }

    /// The snapshot one statement may apply per id (it may not touch a row twice): the newest,
    /// and among equal versions the first that names an author, else the first — what
    /// applying them one at a time would leave.
    private static func onePerObject(_ objects: [KnownObject]) -> [KnownObject] {
        var chosen: [UUID: Int] = [:]
        var order: [UUID] = []
        for (index, object) in objects.enumerated() {
            guard let current = chosen[object.id] else {
                chosen[object.id] = index
                order.append(object.id)
                continue
            }
            let kept = objects[current]
            if object.version > kept.version || (object.version == kept.version && kept.authorId == nil && object.authorId != nil) {
                chosen[object.id] = index
            }
        }
        return order.map { objects[chosen[$0]!] }
    }
}

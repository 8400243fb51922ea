import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps the ids of events and orders seen on `crm.events.v1` and `crm.documents.v1`, so values
/// can be attached to them, with their author and responsible employee (who, besides admins,
/// may change those values). The newest version wins.
struct KnownObjectsHandler: MessageHandler {
    /// The members of an event or order snapshot this projection needs.
    private struct Owners: Decodable {
        struct Data: Decodable {
            var authorId: String?
            var responsibleId: String?
        }
        var data: Data?
    }

    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        let header: CloudEventHeader
        do {
            header = try CRMJSON.makeDecoder().decode(CloudEventHeader.self, from: Data(message.value ?? []))
        } catch let error as DecodingError {
            throw PermanentFailure("not a CloudEvent: \(error.reason)")
        } catch {
            throw PermanentFailure("not a CloudEvent: \(error)")
        }
        let kind: ObjectKind
        if header.type.hasPrefix("crm.event.") {
            kind = .event
        } else if header.type.hasPrefix("crm.customer-order.") {
            kind = .customerOrder
        } else if header.type.hasPrefix("crm.supplier-order.") {
            kind = .supplierOrder
        } else {
            return // Another document type on the topic: not ours to track.
        }
        guard let subject = header.subject, let id = UUID(uuidString: subject) else {
            throw PermanentFailure("\(header.type) without a UUID subject")
        }
        guard let version = header.version else { throw PermanentFailure("\(header.type) without a version") }
        let owners = (try? CRMJSON.makeDecoder().decode(Owners.self, from: Data(message.value ?? [])))?.data
        // Newer versions win; an equal version may still fill in owners that rows projected
        // before owners were kept lack (a `crm republish events` after the upgrade does that).
        try await transaction.execute("""
            INSERT INTO known_objects (id, kind, deleted, version, author_id, responsible_id)
            VALUES (\(id), \(kind.rawValue), \(header.type.hasSuffix(".deleted")), \(version),
                \(owners?.authorId?.lowercased()), \(owners?.responsibleId?.lowercased()))
            ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, deleted = EXCLUDED.deleted, version = EXCLUDED.version,
                author_id = EXCLUDED.author_id, responsible_id = EXCLUDED.responsible_id
            WHERE known_objects.version < EXCLUDED.version
                OR (known_objects.version = EXCLUDED.version AND known_objects.author_id IS NULL AND EXCLUDED.author_id IS NOT NULL)
            """)
    }
}

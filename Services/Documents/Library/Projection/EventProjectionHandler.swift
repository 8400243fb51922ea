import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps what crm-documents needs of each event from `crm.events.v1`: what an order based on an
/// event takes from it (counterparty, contact, deal, project, responsible), and what the
/// structure shows (number, state, subject, start, basis, deletion). Newest `version` wins.
struct EventProjectionHandler: BatchMessageHandler {
    static let topics = [Topic.events]

    func decode(_ message: KafkaMessage) throws -> VersionedUpsert.Columns {
        let envelope = try message.cloudEvent(of: EventSnapshot.self)
        let event = envelope.data
        return [
            ("id", event.id), ("number", event.number), ("state", event.state),
            ("subject", event.subject), ("starts_at", event.startsAt), ("created_at", event.createdAt),
            ("counterparty_id", event.counterpartyId), ("contact_id", event.contactId), ("deal_id", event.dealId),
            ("project_id", event.projectId), ("responsible_id", event.responsibleId), ("basis_kind", event.basis?.kind),
            ("basis_id", event.basis?.id), ("deleted", event.deleted || envelope.type.hasSuffix(".deleted")),
            ("version", envelope.version),
        ]
    }

    /// One versioned multi-row upsert for the batch, sent with the commit.
    func apply(_ batch: [VersionedUpsert.Columns], in transaction: PostgresTransaction) async throws {
        try VersionedUpsert.applyLater(table: "events", key: ["id"], rows: batch, in: transaction)
    }
}

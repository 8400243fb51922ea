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
        let snapshot = try Snapshot(message)
        let data = snapshot.data
        func uuid(_ key: String) -> UUID? { data[key]?.stringValue.flatMap(UUID.init(uuidString:)) }
        func date(_ key: String) -> Date? { data[key]?.stringValue.flatMap(RFC3339.date(from:)) }
        guard let number = data["number"]?.stringValue, let createdAt = date("createdAt") else {
            throw PermanentFailure("\(snapshot.type) \(snapshot.id) without number or createdAt")
        }
        var basisKind: String?
        var basisID: UUID?
        if let basis = data["basis"]?.objectValue, let kind = basis["kind"]?.stringValue,
           let id = basis["id"]?.stringValue.flatMap(UUID.init(uuidString:)) {
            basisKind = kind
            basisID = id
        }
        return [
            ("id", snapshot.id), ("number", number), ("state", data["state"]?.stringValue ?? "planned"),
            ("subject", data["subject"]?.stringValue ?? ""), ("starts_at", date("startsAt")), ("created_at", createdAt),
            ("counterparty_id", uuid("counterpartyId")), ("contact_id", uuid("contactId")), ("deal_id", uuid("dealId")),
            ("project_id", uuid("projectId")), ("responsible_id", uuid("responsibleId")), ("basis_kind", basisKind),
            ("basis_id", basisID), ("deleted", snapshot.deleted), ("version", snapshot.version),
        ]
    }

    /// One versioned multi-row upsert for the batch.
    func apply(_ batch: [VersionedUpsert.Columns], in transaction: PostgresTransaction) async throws {
        try await VersionedUpsert.apply(table: "events", key: ["id"], rows: batch, in: transaction)
    }
}

import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps the catalog objects crm-events refers to and matches calls against: counterparties and
/// contacts (with a phone index), employees (with extensions), projects and deals. The newest
/// `version` wins, so replays and reordering are harmless.
struct CatalogProjectionHandler: MessageHandler {
    let defaultCountryCode: String

    static let topics = [Topic.counterparties, Topic.contacts, Topic.employees, Topic.projects, Topic.deals]

    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        func normalized(_ phones: [String]?) -> [String] {
            (phones ?? []).compactMap { PhoneNumber.normalize($0, defaultCountryCode: defaultCountryCode) }
        }

        switch message.topic {
        case Topic.counterparties:
            let (id, deleted, version, fields) = try message.catalogSnapshot(CounterpartyFields.self)
            let phones = normalized(fields.phones)
            let applied = try await VersionedUpsert.apply(
                table: "counterparties", key: ["id"],
                columns: [("id", id), ("name", fields.name ?? ""), ("phones", phones), ("deleted", deleted), ("version", version)],
                in: transaction)
            if applied { try await index(phones: deleted ? [] : phones, owner: id, counterparty: id, contact: nil, in: transaction) }
        case Topic.contacts:
            let (id, deleted, version, fields) = try message.catalogSnapshot(ContactFields.self)
            let phones = normalized(fields.phones)
            let counterparty = fields.counterpartyId
            let applied = try await VersionedUpsert.apply(
                table: "contacts", key: ["id"],
                columns: [("id", id), ("counterparty_id", counterparty), ("name", fields.name ?? ""), ("phones", phones),
                          ("deleted", deleted), ("version", version)],
                in: transaction)
            if applied, let counterparty {
                try await index(phones: deleted ? [] : phones, owner: id, counterparty: counterparty, contact: id, in: transaction)
            }
        case Topic.employees:
            let (id, deleted, version, fields) = try message.catalogSnapshot(EmployeeFields.self)
            try await VersionedUpsert.apply(
                table: "employees", key: ["id"],
                columns: [("id", id), ("name", fields.name ?? ""), ("phone_extension", fields.phoneExtension),
                          ("deleted", deleted), ("version", version)],
                in: transaction)
        case Topic.projects:
            let (id, deleted, version, fields) = try message.catalogSnapshot(ProjectFields.self)
            try await VersionedUpsert.apply(
                table: "projects", key: ["id"],
                columns: [("id", id), ("name", fields.name ?? ""), ("deleted", deleted), ("version", version)], in: transaction)
        case Topic.deals:
            let (id, deleted, version, fields) = try message.catalogSnapshot(DealFields.self)
            try await VersionedUpsert.apply(
                table: "deals", key: ["id"],
                columns: [("id", id), ("name", fields.name ?? ""), ("counterparty_id", fields.counterpartyId), ("deleted", deleted),
                          ("version", version)],
                in: transaction)
        default:
            throw PermanentFailure("crm-events does not project \(message.topic)")
        }
    }

    /// Replaces the phone-index rows of one counterparty or contact.
    private func index(phones: [String], owner: UUID, counterparty: UUID, contact: UUID?, in transaction: PostgresTransaction) async throws {
        try await transaction.execute("DELETE FROM phone_index WHERE owner_id = \(owner)")
        for phone in Set(phones) {
            try await transaction.execute("""
                INSERT INTO phone_index (e164, last10, counterparty_id, contact_id, owner_id)
                VALUES (\(phone), \(PhoneNumber.lastTenDigits(phone)), \(counterparty), \(contact), \(owner))
                """)
        }
    }
}

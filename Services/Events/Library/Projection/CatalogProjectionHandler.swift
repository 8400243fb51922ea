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
        let envelope: CloudEvent<JSONValue>
        do {
            envelope = try CRMJSON.makeDecoder().decode(CloudEvent<JSONValue>.self, from: Data(message.value ?? []))
        } catch let error as DecodingError {
            throw PermanentFailure("not a CloudEvent snapshot: \(error.reason)")
        }
        guard let data = envelope.data.objectValue, let id = UUID(uuidString: data["id"]?.stringValue ?? envelope.subject) else {
            throw PermanentFailure("\(envelope.type) without an object id")
        }
        let deleted = data["deleted"] == .bool(true) || envelope.type.hasSuffix(".deleted")
        let name = data["name"]?.stringValue ?? ""
        let version = envelope.version
        func uuid(_ key: String) -> UUID? { data[key]?.stringValue.flatMap(UUID.init(uuidString:)) }
        let phones = (data["phones"]?.arrayValue ?? []).compactMap(\.stringValue)
            .compactMap { PhoneNumber.normalize($0, defaultCountryCode: defaultCountryCode) }

        switch message.topic {
        case Topic.counterparties:
            let applied = try await VersionedUpsert.apply(
                table: "counterparties", key: ["id"],
                columns: [("id", id), ("name", name), ("phones", phones), ("deleted", deleted), ("version", version)],
                in: transaction)
            if applied { try await index(phones: deleted ? [] : phones, owner: id, counterparty: id, contact: nil, in: transaction) }
        case Topic.contacts:
            let counterparty = uuid("counterpartyId")
            let applied = try await VersionedUpsert.apply(
                table: "contacts", key: ["id"],
                columns: [("id", id), ("counterparty_id", counterparty), ("name", name), ("phones", phones),
                          ("deleted", deleted), ("version", version)],
                in: transaction)
            if applied, let counterparty {
                try await index(phones: deleted ? [] : phones, owner: id, counterparty: counterparty, contact: id, in: transaction)
            }
        case Topic.employees:
            try await VersionedUpsert.apply(
                table: "employees", key: ["id"],
                columns: [("id", id), ("name", name), ("phone_extension", data["phoneExtension"]?.stringValue),
                          ("deleted", deleted), ("version", version)],
                in: transaction)
        case Topic.projects:
            try await VersionedUpsert.apply(
                table: "projects", key: ["id"],
                columns: [("id", id), ("name", name), ("deleted", deleted), ("version", version)], in: transaction)
        case Topic.deals:
            try await VersionedUpsert.apply(
                table: "deals", key: ["id"],
                columns: [("id", id), ("name", name), ("counterparty_id", uuid("counterpartyId")), ("deleted", deleted),
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

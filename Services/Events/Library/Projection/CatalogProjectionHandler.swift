import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps the catalog objects crm-events refers to and matches calls against: counterparties and
/// contacts (with a phone index), employees (with extensions), projects and deals. The newest
/// `version` wins, so replays and reordering are harmless.
struct CatalogProjectionHandler: BatchMessageHandler {
    let defaultCountryCode: String

    static let topics = [Topic.counterparties, Topic.contacts, Topic.employees, Topic.projects, Topic.deals]

    /// What crm-events keeps of one catalog snapshot.
    struct CatalogSnapshot: Sendable {
        var topic: String
        var id: UUID
        var name: String
        var phones: [String]
        var counterpartyId: UUID?
        var phoneExtension: String?
        var deleted: Bool
        var version: Int64
    }

    func decode(_ message: KafkaMessage) throws -> CatalogSnapshot {
        func normalized(_ phones: [String]?) -> [String] {
            (phones ?? []).compactMap { PhoneNumber.normalize($0, defaultCountryCode: defaultCountryCode) }
        }
        switch message.topic {
        case Topic.counterparties:
            let (id, deleted, version, fields) = try message.catalogSnapshot(CounterpartyFields.self)
            return CatalogSnapshot(
                topic: message.topic, id: id, name: fields.name ?? "", phones: normalized(fields.phones),
                counterpartyId: nil, phoneExtension: nil, deleted: deleted, version: version)
        case Topic.contacts:
            let (id, deleted, version, fields) = try message.catalogSnapshot(ContactFields.self)
            return CatalogSnapshot(
                topic: message.topic, id: id, name: fields.name ?? "", phones: normalized(fields.phones),
                counterpartyId: fields.counterpartyId, phoneExtension: nil, deleted: deleted, version: version)
        case Topic.employees:
            let (id, deleted, version, fields) = try message.catalogSnapshot(EmployeeFields.self)
            return CatalogSnapshot(
                topic: message.topic, id: id, name: fields.name ?? "", phones: [],
                counterpartyId: nil, phoneExtension: fields.phoneExtension, deleted: deleted, version: version)
        case Topic.projects:
            let (id, deleted, version, fields) = try message.catalogSnapshot(ProjectFields.self)
            return CatalogSnapshot(
                topic: message.topic, id: id, name: fields.name ?? "", phones: [],
                counterpartyId: nil, phoneExtension: nil, deleted: deleted, version: version)
        case Topic.deals:
            let (id, deleted, version, fields) = try message.catalogSnapshot(DealFields.self)
            return CatalogSnapshot(
                topic: message.topic, id: id, name: fields.name ?? "", phones: [],
                counterpartyId: fields.counterpartyId, phoneExtension: nil, deleted: deleted, version: version)
        default:
            throw PermanentFailure("crm-events does not project \(message.topic)")
        }
    }

    /// One versioned multi-row upsert per table, then the phone index of the counterparties
    /// and contacts that changed.
    func apply(_ batch: [CatalogSnapshot], in transaction: PostgresTransaction) async throws {
        for topic in Self.topics {
            let snapshots = batch.filter { $0.topic == topic }
            guard !snapshots.isEmpty else { continue }
            let written = try await VersionedUpsert.apply(
                table: Self.table(of: topic), key: ["id"], rows: snapshots.map { Self.columns($0, topic: topic) }, in: transaction)
            if topic == Topic.counterparties || topic == Topic.contacts {
                try await index(written.map { snapshots[$0] }, in: transaction)
            }
        }
    }

    private static func table(of topic: String) -> String {
        switch topic {
        case Topic.counterparties: "counterparties"
        case Topic.contacts: "contacts"
        case Topic.employees: "employees"
        case Topic.projects: "projects"
        default: "deals"
        }
    }

    private static func columns(_ snapshot: CatalogSnapshot, topic: String) -> VersionedUpsert.Columns {
        let (id, name, deleted, version) = (snapshot.id, snapshot.name, snapshot.deleted, snapshot.version)
        switch topic {
        case Topic.counterparties:
            return [("id", id), ("name", name), ("phones", snapshot.phones), ("deleted", deleted), ("version", version)]
        case Topic.contacts:
            return [("id", id), ("counterparty_id", snapshot.counterpartyId), ("name", name), ("phones", snapshot.phones),
                    ("deleted", deleted), ("version", version)]
        case Topic.employees:
            return [("id", id), ("name", name), ("phone_extension", snapshot.phoneExtension), ("deleted", deleted), ("version", version)]
        case Topic.projects:
            return [("id", id), ("name", name), ("deleted", deleted), ("version", version)]
        default:
            return [("id", id), ("name", name), ("counterparty_id", snapshot.counterpartyId), ("deleted", deleted), ("version", version)]
        }
    }

    /// Replaces the phone-index rows of the written counterparties and contacts (a contact
    /// without a counterparty keeps its rows, as nothing can be matched to it anew).
    private func index(_ written: [CatalogSnapshot], in transaction: PostgresTransaction) async throws {
        let owners = written.compactMap { snapshot -> (owner: UUID, counterparty: UUID, contact: UUID?, phones: [String])? in
            let phones = snapshot.deleted ? [] : Array(Set(snapshot.phones))
            if snapshot.topic == Topic.counterparties { return (snapshot.id, snapshot.id, nil, phones) }
            return snapshot.counterpartyId.map { (snapshot.id, $0, snapshot.id, phones) }
        }
        guard !owners.isEmpty else { return }
        try await transaction.execute("DELETE FROM phone_index WHERE owner_id = ANY(\(owners.map(\.owner))::uuid[])")
        let rows: [[(any PostgresEncodable)?]] = owners.flatMap { owner in
            owner.phones.map { phone -> [(any PostgresEncodable)?] in
                [phone, PhoneNumber.lastTenDigits(phone), owner.counterparty, owner.contact, owner.owner]
            }
        }
        for chunk in PostgresQuery.statementChunks(rows, width: 5) {
            try await transaction.execute(.withValues(
                "INSERT INTO phone_index (e164, last10, counterparty_id, contact_id, owner_id) VALUES", Array(chunk)))
        }
    }
}

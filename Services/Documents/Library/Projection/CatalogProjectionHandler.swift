import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps the catalog objects orders refer to: counterparties, contacts (with their
/// counterparty), employees, projects, deals and products (name and price, the defaults of an
/// order line). The newest `version` wins, so replays and reordering are harmless.
struct CatalogProjectionHandler: MessageHandler {
    static let topics = [Topic.counterparties, Topic.contacts, Topic.employees, Topic.projects, Topic.deals, Topic.products]

    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        switch message.topic {
        case Topic.counterparties, Topic.employees, Topic.projects:
            let table = message.topic == Topic.counterparties ? "counterparties" : message.topic == Topic.employees ? "employees" : "projects"
            let (id, deleted, version, name) = switch message.topic {
            case Topic.counterparties: try Self.named(message.catalogSnapshot(CounterpartyFields.self), \.name)
            case Topic.employees: try Self.named(message.catalogSnapshot(EmployeeFields.self), \.name)
            default: try Self.named(message.catalogSnapshot(ProjectFields.self), \.name)
            }
            try await VersionedUpsert.apply(
                table: table, key: ["id"],
                columns: [("id", id), ("name", name), ("deleted", deleted), ("version", version)], in: transaction)
        case Topic.contacts, Topic.deals:
            let (id, deleted, version, counterparty, name): (UUID, Bool, Int64, UUID?, String)
            if message.topic == Topic.contacts {
                let snapshot = try message.catalogSnapshot(ContactFields.self)
                (id, deleted, version, counterparty, name) = (
                    snapshot.id, snapshot.deleted, snapshot.version, snapshot.fields.counterpartyId, snapshot.fields.name ?? "")
            } else {
                let snapshot = try message.catalogSnapshot(DealFields.self)
                (id, deleted, version, counterparty, name) = (
                    snapshot.id, snapshot.deleted, snapshot.version, snapshot.fields.counterpartyId, snapshot.fields.name ?? "")
            }
            try await VersionedUpsert.apply(
                table: message.topic == Topic.contacts ? "contacts" : "deals", key: ["id"],
                columns: [("id", id), ("counterparty_id", counterparty), ("name", name), ("deleted", deleted),
                          ("version", version)],
                in: transaction)
        case Topic.products:
            let (id, deleted, version, product) = try message.catalogSnapshot(ProductFields.self)
            // A price that is not a decimal string is left unknown rather than failing the message.
            let price = product.price.flatMap { text -> String? in
                if case .success(let value) = DecimalText.parse(text) { return value.text }
                return nil
            }
            try await VersionedUpsert.apply(
                table: "products", key: ["id"],
                columns: [("id", id), ("name", product.name ?? ""), ("price", price), ("currency", product.currency),
                          ("deleted", deleted), ("version", version)],
                in: transaction)
        default:
            throw PermanentFailure("crm-documents does not project \(message.topic)")
        }
    }

    private static func named<Fields>(
        _ snapshot: (id: UUID, deleted: Bool, version: Int64, fields: Fields), _ name: KeyPath<Fields, String?>
    ) -> (UUID, Bool, Int64, String) {
        (snapshot.id, snapshot.deleted, snapshot.version, snapshot.fields[keyPath: name] ?? "")
    }
}

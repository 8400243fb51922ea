import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

/// Keeps the catalog objects orders refer to: counterparties, contacts (with their
/// counterparty), employees, projects, deals and products (name and price, the defaults of an
/// order line). The newest `version` wins, so replays and reordering are harmless.
struct CatalogProjectionHandler: BatchMessageHandler {
    static let topics = [Topic.counterparties, Topic.contacts, Topic.employees, Topic.projects, Topic.deals, Topic.products]

    /// One catalog snapshot: the row it becomes in its table.
    struct CatalogRow: Sendable {
        var topic: String
        var columns: [(name: String, value: (any PostgresEncodable)?)]
    }

    func decode(_ message: KafkaMessage) throws -> CatalogRow {
        switch message.topic {
        case Topic.counterparties, Topic.employees, Topic.projects:
            let (id, deleted, version, name) = switch message.topic {
            case Topic.counterparties: try Self.named(message.catalogSnapshot(CounterpartyFields.self), \.name)
            case Topic.employees: try Self.named(message.catalogSnapshot(EmployeeFields.self), \.name)
            default: try Self.named(message.catalogSnapshot(ProjectFields.self), \.name)
            }
            return CatalogRow(topic: message.topic, columns: [("id", id), ("name", name), ("deleted", deleted), ("version", version)])
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
            return CatalogRow(topic: message.topic, columns: [
                ("id", id), ("counterparty_id", counterparty), ("name", name), ("deleted", deleted), ("version", version),
            ])
        case Topic.products:
            let (id, deleted, version, product) = try message.catalogSnapshot(ProductFields.self)
            // A price that is not a decimal string is left unknown rather than failing the message.
            let price = product.price.flatMap { text -> String? in
                if case .success(let value) = DecimalText.parse(text) { return value.text }
                return nil
            }
            return CatalogRow(topic: message.topic, columns: [
                ("id", id), ("name", product.name ?? ""), ("price", price), ("currency", product.currency),
                ("deleted", deleted), ("version", version),
            ])
        default:
            throw PermanentFailure("crm-documents does not project \(message.topic)")
        }
    }

    /// One versioned multi-row upsert per table, sent with the commit.
    func apply(_ batch: [CatalogRow], in transaction: PostgresTransaction) async throws {
        for topic in Self.topics {
            let rows = batch.filter { $0.topic == topic }.map(\.columns)
            guard !rows.isEmpty else { continue }
            try VersionedUpsert.applyLater(table: Self.table(of: topic), key: ["id"], rows: rows, in: transaction)
        }
    }

    private static func table(of topic: String) -> String {
        switch topic {
        case Topic.counterparties: "counterparties"
        case Topic.contacts: "contacts"
        case Topic.employees: "employees"
        case Topic.projects: "projects"
        case Topic.deals: "deals"
        default: "products"
        }
    }

    private static func named<Fields>(
        _ snapshot: (id: UUID, deleted: Bool, version: Int64, fields: Fields), _ name: KeyPath<Fields, String?>
    ) -> (UUID, Bool, Int64, String) {
        (snapshot.id, snapshot.deleted, snapshot.version, snapshot.fields[keyPath: name] ?? "")
    }
}

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
        guard Self.topics.contains(message.topic) else { throw PermanentFailure("crm-documents does not project \(message.topic)") }
        let snapshot = try Snapshot(message)
        let (id, data, deleted, version) = (snapshot.id, snapshot.data, snapshot.deleted, snapshot.version)
        let name = data["name"]?.stringValue ?? ""
        func uuid(_ key: String) -> UUID? { data[key]?.stringValue.flatMap(UUID.init(uuidString:)) }

        switch message.topic {
        case Topic.counterparties, Topic.employees, Topic.projects:
            return CatalogRow(topic: message.topic, columns: [("id", id), ("name", name), ("deleted", deleted), ("version", version)])
        case Topic.contacts, Topic.deals:
            return CatalogRow(topic: message.topic, columns: [
                ("id", id), ("counterparty_id", uuid("counterpartyId")), ("name", name), ("deleted", deleted), ("version", version),
            ])
        default:
            // A price that is not a decimal string is left unknown rather than failing the message.
            let price = data["price"]?.stringValue.flatMap { text -> String? in
                if case .success(let value) = DecimalText.parse(text) { return value.text }
                return nil
            }
            return CatalogRow(topic: message.topic, columns: [
                ("id", id), ("name", name), ("price", price), ("currency", data["currency"]?.stringValue),
                ("deleted", deleted), ("version", version),
            ])
        }
    }

    /// One versioned multi-row upsert per table.
    func apply(_ batch: [CatalogRow], in transaction: PostgresTransaction) async throws {
        for topic in Self.topics {
            let rows = batch.filter { $0.topic == topic }.map(\.columns)
            guard !rows.isEmpty else { continue }
            try await VersionedUpsert.apply(table: Self.table(of: topic), key: ["id"], rows: rows, in: transaction)
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
}

/// A CloudEvent snapshot of any aggregate: its id, data object, deletion mark and version.
struct Snapshot {
    var id: UUID
    var type: String
    var data: [String: JSONValue]
    var deleted: Bool
    var version: Int64

    init(_ message: KafkaMessage) throws {
        let envelope: CloudEvent<JSONValue>
        do {
            envelope = try CRMJSON.makeDecoder().decode(CloudEvent<JSONValue>.self, from: Data(message.value ?? []))
        } catch let error as DecodingError {
            throw PermanentFailure("not a CloudEvent snapshot: \(error.reason)")
        }
        guard let data = envelope.data.objectValue, let id = UUID(uuidString: data["id"]?.stringValue ?? envelope.subject) else {
            throw PermanentFailure("\(envelope.type) without an object id")
        }
        self.id = id
        type = envelope.type
        self.data = data
        deleted = data["deleted"] == .bool(true) || envelope.type.hasSuffix(".deleted")
        version = envelope.version
    }
}

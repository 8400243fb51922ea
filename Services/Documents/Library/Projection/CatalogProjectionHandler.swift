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
        let snapshot = try Snapshot(message)
        let (id, data, deleted, version) = (snapshot.id, snapshot.data, snapshot.deleted, snapshot.version)
        let name = data["name"]?.stringValue ?? ""
        func uuid(_ key: String) -> UUID? { data[key]?.stringValue.flatMap(UUID.init(uuidString:)) }

        switch message.topic {
        case Topic.counterparties, Topic.employees, Topic.projects:
            let table = message.topic == Topic.counterparties ? "counterparties" : message.topic == Topic.employees ? "employees" : "projects"
            try await VersionedUpsert.apply(
                table: table, key: ["id"],
                columns: [("id", id), ("name", name), ("deleted", deleted), ("version", version)], in: transaction)
        case Topic.contacts, Topic.deals:
            try await VersionedUpsert.apply(
                table: message.topic == Topic.contacts ? "contacts" : "deals", key: ["id"],
                columns: [("id", id), ("counterparty_id", uuid("counterpartyId")), ("name", name), ("deleted", deleted),
                          ("version", version)],
                in: transaction)
        case Topic.products:
            // A price that is not a decimal string is left unknown rather than failing the message.
            let price = data["price"]?.stringValue.flatMap { text -> String? in
                if case .success(let value) = DecimalText.parse(text) { return value.text }
                return nil
            }
            try await VersionedUpsert.apply(
                table: "products", key: ["id"],
                columns: [("id", id), ("name", name), ("price", price), ("currency", data["currency"]?.stringValue),
                          ("deleted", deleted), ("version", version)],
                in: transaction)
        default:
            throw PermanentFailure("crm-documents does not project \(message.topic)")
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

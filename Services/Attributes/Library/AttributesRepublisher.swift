import Contracts
import Foundation
import Messaging
import Postgres

/// `crm republish attributes`: every catalog object, attribute set and values document again,
/// with its version. Catalog objects go first, so consumers know an object before its values.
struct AttributesRepublisher: SnapshotRepublisher {
    var families: [String] { ["catalog-objects", "attribute-sets", "attribute-values"] }

    func count(_ family: String, in transaction: PostgresTransaction) async throws -> Int {
        switch family {
        case "catalog-objects": try await transaction.query("SELECT count(*) AS n FROM catalog_objects")[0].decode("n")
        case "attribute-sets": try await transaction.query("SELECT count(*) AS n FROM attribute_sets")[0].decode("n")
        default: try await transaction.query("SELECT count(*) AS n FROM attribute_values WHERE version > 0")[0].decode("n")
        }
    }

    func republish(
        _ family: String, after cursor: String?, limit: Int, outbox: Outbox, in transaction: PostgresTransaction
    ) async throws -> (count: Int, last: String?) {
        let sets = AttributeSetStore(outbox: outbox)
        let values = AttributeValueStore(outbox: outbox, sets: sets)
        // Re-rendering needs no validation, so the catalog store gets a validator with any country.
        let catalogs = CatalogStore(outbox: outbox, values: values, validator: FieldValidator(defaultCountryCode: "7"))
        var last: String?
        switch family {
        case "catalog-objects":
            let after = cursor.flatMap(UUID.init(uuidString:))
            let rows = try await transaction.query("""
                SELECT id, kind FROM catalog_objects WHERE \(after == nil) OR id > \(after) ORDER BY id LIMIT \(limit)
                FOR SHARE
                """)
            for row in rows {
                let id: UUID = try row.decode("id")
                last = id.lowercasedText
                if let catalog = ObjectKind(rawValue: try row.decode("kind"))?.catalog {
                    try await Republishing.enqueueOne(last!, in: transaction) {
                        try await catalogs.publish(id, in: catalog, transaction: $0)
                    }
                }
            }
            return (rows.count, last)
        case "attribute-sets":
            let rows = try await transaction.query("""
                SELECT kind FROM attribute_sets WHERE \(cursor == nil) OR kind > \(cursor) ORDER BY kind LIMIT \(limit)
                FOR SHARE
                """)
            for row in rows {
                let text: String = try row.decode("kind")
                last = text
                if let kind = ObjectKind(rawValue: text) {
                    try await Republishing.enqueueOne(text, in: transaction) { try await sets.republish(kind, in: $0) }
                }
            }
            return (rows.count, last)
        default:
            // Cursor: `<kind>:<objectId>`, the topic's key.
            let parts = cursor?.split(separator: ":", maxSplits: 1).map(String.init)
            let afterKind = parts?.first ?? ""
            let afterId = parts.flatMap { $0.count == 2 ? UUID(uuidString: $0[1]) : nil }
                ?? UUID(uuidString: "00000000-0000-0000-0000-000000000000")!
            let rows = try await transaction.query("""
                SELECT kind, object_id FROM attribute_values
                WHERE version > 0 AND (kind, object_id) > (\(afterKind), \(afterId))
                ORDER BY kind, object_id LIMIT \(limit)
                FOR SHARE
                """)
            for row in rows {
                let text: String = try row.decode("kind")
                let id: UUID = try row.decode("object_id")
                last = "\(text):\(id.lowercasedText)"
                if let kind = ObjectKind(rawValue: text) {
                    try await Republishing.enqueueOne(last!, in: transaction) { try await values.publish(kind, id: id, in: $0) }
                }
            }
            return (rows.count, last)
        }
    }
}

extension AttributesService {
    /// What `crm republish attributes` runs.
    public static func republisher() -> any SnapshotRepublisher { AttributesRepublisher() }
}

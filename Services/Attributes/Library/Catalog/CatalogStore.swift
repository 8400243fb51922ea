import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// Catalog objects: validated, stored as their API fields, published as full snapshots.
struct CatalogStore: Sendable {
    let outbox: Outbox
    let values: AttributeValueStore
    let validator: FieldValidator

    /// Fields a client may send back unchanged; they are set by the server.
    private static let readOnly: Set<String> = ["id", "version", "deleted", "createdAt", "updatedAt"]

    func create(_ body: [String: JSONValue], in catalog: Catalog, transaction: PostgresTransaction) async throws -> (JSONValue, Int) {
        var data: [String: JSONValue] = [:]
        for field in catalog.fields { if let value = field.defaultValue { data[field.name] = value } }
        let (merged, attributes) = try await checked(body, over: data, in: catalog, transaction: transaction)
        let id = UUID()
        let now = Date()
        try await transaction.execute("""
            INSERT INTO catalog_objects (id, kind, name, data, phones, counterparty_id, version, created_at, updated_at)
            VALUES (\(id), \(catalog.kind.rawValue), \(merged["name"]?.stringValue ?? ""), \(try PostgresJSON(encoding: merged)),
                    \(Self.phones(merged)), \(merged["counterpartyId"]?.stringValue.flatMap(UUID.init(uuidString:))), 1, \(now), \(now))
            """)
        if !attributes.isEmpty { try await values.apply(attributes, to: catalog.kind, id: id, in: transaction) }
        return try await publish(id, in: catalog, transaction: transaction)
    }

    func update(
        _ id: UUID, with body: [String: JSONValue], ifMatch: IfMatch?, in catalog: Catalog, transaction: PostgresTransaction
    ) async throws -> (JSONValue, Int) {
        let current = try await row(id, in: catalog, transaction: transaction, lock: true)
        if let ifMatch, !ifMatch.matches(version: current.version) {
            throw Problem.preconditionFailed("The \(catalog.kind.rawValue) is at version \(current.version).")
        }
        let (merged, attributes) = try await checked(body, over: current.data, in: catalog, transaction: transaction)
        if !attributes.isEmpty { try await values.apply(attributes, to: catalog.kind, id: id, in: transaction) }
        try await transaction.execute("""
            UPDATE catalog_objects SET name = \(merged["name"]?.stringValue ?? ""), data = \(try PostgresJSON(encoding: merged)),
                phones = \(Self.phones(merged)), counterparty_id = \(merged["counterpartyId"]?.stringValue.flatMap(UUID.init(uuidString:))),
                version = version + 1, updated_at = now()
            WHERE id = \(id)
            """)
        return try await publish(id, in: catalog, transaction: transaction)
    }

    /// A new version of the object after its attribute values changed elsewhere, so the card
    /// (whose tab shows them) and its topic snapshot stay in step.
    func valuesChanged(_ id: UUID, in catalog: Catalog, transaction: PostgresTransaction) async throws {
        try await transaction.execute("UPDATE catalog_objects SET version = version + 1, updated_at = now() WHERE id = \(id)")
        _ = try await publish(id, in: catalog, transaction: transaction)
    }

    /// Marks the object deleted; it stays readable by id. Deleting twice changes nothing.
    func delete(_ id: UUID, ifMatch: IfMatch?, in catalog: Catalog, transaction: PostgresTransaction) async throws -> (JSONValue, Int) {
        let current = try await row(id, in: catalog, transaction: transaction, lock: true)
        if let ifMatch, !ifMatch.matches(version: current.version) {
            throw Problem.preconditionFailed("The \(catalog.kind.rawValue) is at version \(current.version).")
        }
        if current.deleted { return try await representation(id, in: catalog, transaction: transaction) }
        try await transaction.execute("""
            UPDATE catalog_objects SET deleted = true, version = version + 1, updated_at = now() WHERE id = \(id)
            """)
        return try await publish(id, in: catalog, transaction: transaction)
    }

    /// The API representation and its version; 404 for an unknown id.
    func representation(_ id: UUID, in catalog: Catalog, transaction: PostgresTransaction) async throws -> (JSONValue, Int) {
        let current = try await row(id, in: catalog, transaction: transaction, lock: false)
        let tab = try await values.tab(of: catalog.kind, id: id, in: transaction)
        return (try Self.render(current, id: id, tab: tab, in: catalog), current.version)
    }

    /// The representations of a list page, in the order of `ids`, with three queries in all.
    func representations(_ ids: [UUID], in catalog: Catalog, transaction: PostgresTransaction) async throws -> [JSONValue] {
        guard !ids.isEmpty else { return [] }
        var objects: [UUID: StoredObject] = [:]
        for row in try await transaction.query("""
            SELECT id, data, version, deleted, created_at, updated_at FROM catalog_objects WHERE id = ANY(\(ids))
            """) {
            objects[try row.decode("id")] = try Self.storedObject(row)
        }
        let tabs = try await values.tabs(of: catalog.kind, ids: ids, in: transaction)
        return try ids.compactMap { id in
            try objects[id].map { try Self.render($0, id: id, tab: tabs[id] ?? [], in: catalog) }
        }
    }

    private static func render(_ current: StoredObject, id: UUID, tab: [AttributeTabEntry], in catalog: Catalog) throws -> JSONValue {
        var object = current.data
        object["id"] = .string(id.lowercasedText)
        object["attributes"] = try JSONValue(encoding: tab)
        object["deleted"] = .bool(current.deleted)
        object["version"] = .number(Double(current.version))
        object["createdAt"] = .string(RFC3339.string(from: current.createdAt))
        object["updatedAt"] = .string(RFC3339.string(from: current.updatedAt))
        for field in catalog.fields where object[field.name] == nil { object[field.name] = .null }
        return .object(object)
    }

    func exists(_ id: UUID, kind: ObjectKind, transaction: PostgresTransaction) async throws -> Bool {
        try await !transaction.query("SELECT 1 FROM catalog_objects WHERE id = \(id) AND kind = \(kind.rawValue)").isEmpty
    }

    // MARK: - Private

    private struct StoredObject {
        var data: [String: JSONValue]
        var version: Int
        var deleted: Bool
        var createdAt: Date
        var updatedAt: Date
    }

    private func row(_ id: UUID, in catalog: Catalog, transaction: PostgresTransaction, lock: Bool) async throws -> StoredObject {
        let rows = try await transaction.query("""
            SELECT data, version, deleted, created_at, updated_at FROM catalog_objects
            WHERE id = \(id) AND kind = \(catalog.kind.rawValue) \(unescaped: lock ? "FOR UPDATE" : "")
            """)
        guard let row = rows.first else { throw Problem.notFound("No \(catalog.kind.rawValue) with id \(id.lowercasedText).") }
        return try Self.storedObject(row)
    }

    private static func storedObject(_ row: PostgresRow) throws -> StoredObject {
        StoredObject(
            data: try row.decode("data", as: PostgresJSON.self).decode([String: JSONValue].self),
            version: try row.decode("version"), deleted: try row.decode("deleted"),
            createdAt: try row.decode("created_at"), updatedAt: try row.decode("updated_at"))
    }

    /// Merges the body over `data` (null clears), validates every field and the references, and
    /// splits off `attributes`. Throws one 422 naming every bad field.
    private func checked(
        _ body: [String: JSONValue], over data: [String: JSONValue], in catalog: Catalog, transaction: PostgresTransaction
    ) async throws -> ([String: JSONValue], [String: JSONValue]) {
        var errors: [FieldError] = []
        var merged = data
        let fields = Dictionary(uniqueKeysWithValues: catalog.fields.map { ($0.name, $0) })
        for (name, value) in body.sorted(by: { $0.key < $1.key }) where name != "attributes" && !Self.readOnly.contains(name) {
            guard let field = fields[name] else {
                errors.append(FieldError(field: name, message: "is not a field of \(catalog.path)"))
                continue
            }
            if value.isNull {
                merged[name] = field.defaultValue
                continue
            }
            merged[name] = validator.normalize(value, for: field, errors: &errors)
        }
        for field in catalog.fields where field.required && (merged[field.name] == nil || merged[field.name] == .null) {
            if !errors.contains(where: { $0.field == field.name }) { errors.append(FieldError(field: field.name, message: "is required")) }
        }
        if let starts = merged["startsOn"]?.stringValue, let ends = merged["endsOn"]?.stringValue, ends < starts {
            errors.append(FieldError(field: "endsOn", message: "must not be before startsOn"))
        }
        if let text = merged["counterpartyId"]?.stringValue, let id = UUID(uuidString: text), body["counterpartyId"] != nil {
            if try await !transaction.catalogObjectIsLive(id, kind: .counterparty) { errors.append(FieldError(field: "counterpartyId", message: "refers to no existing counterparty")) }
        }
        var attributes: [String: JSONValue] = [:]
        if let given = body["attributes"], !given.isNull {
            if let object = given.objectValue {
                let checked = try await values.validate(object, of: catalog.kind, fieldPrefix: "attributes.", in: transaction)
                attributes = checked.normalized
                errors += checked.errors
            } else {
                errors.append(FieldError(field: "attributes", message: "must be an object of attribute values"))
            }
        }
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        return (merged.filter { $0.value != .null }, attributes)
    }

    /// Enqueues the object's current snapshot (after a change, and for `crm republish`).
    @discardableResult
    func publish(_ id: UUID, in catalog: Catalog, transaction: PostgresTransaction) async throws -> (JSONValue, Int) {
        let (snapshot, version) = try await representation(id, in: catalog, transaction: transaction)
        try await enqueue(snapshot.decode(as: catalog.snapshotType), topic: catalog.topic, in: transaction)
        return (snapshot, version)
    }

    /// The typed payload of the catalog's topic (Contracts), so the message has exactly the
    /// contract's members whatever the generic field engine rendered.
    private func enqueue<Snapshot: CatalogSnapshotProtocol>(_ snapshot: Snapshot, topic: String, in transaction: PostgresTransaction) async throws {
        let key = snapshot.id.lowercasedText
        let event = CloudEvent(
            source: AttributesService.name, type: snapshot.eventType, subject: key, version: Int64(snapshot.version), data: snapshot)
        try await outbox.enqueue(event, topic: topic, key: key, in: transaction)
    }

    private static func phones(_ data: [String: JSONValue]) -> [String] {
        data["phones"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// Additional-attribute values of any object: typed checks against the kind's set, one row per
/// object, every change published with all the object's shown values.
struct AttributeValueStore: Sendable {
    let outbox: Outbox
    let sets: AttributeSetStore

    /// The shown values (active attributes only) and the values version; version 0 when none set.
    func values(of kind: ObjectKind, id: UUID, in transaction: PostgresTransaction) async throws -> AttributeValues {
        let definitions = try await sets.activeDefinitions(of: kind, in: transaction)
        let (stored, version) = try await storedValues(of: kind, id: id, in: transaction)
        return AttributeValues(kind: kind, objectId: id, version: version, values: Self.shown(stored, definitions))
    }

    /// The card tab: every active attribute in position order, `null` where unset.
    func tab(of kind: ObjectKind, id: UUID, in transaction: PostgresTransaction) async throws -> [AttributeTabEntry] {
        try await tabs(of: kind, ids: [id], in: transaction)[id] ?? []
    }

    /// The tabs of many objects with one query for the set and one for the values (list pages).
    func tabs(of kind: ObjectKind, ids: [UUID], in transaction: PostgresTransaction) async throws -> [UUID: [AttributeTabEntry]] {
        let definitions = try await sets.activeDefinitions(of: kind, in: transaction)
        var stored: [UUID: [String: JSONValue]] = [:]
        if !definitions.isEmpty {
            for row in try await transaction.query("""
                SELECT object_id, "values" FROM attribute_values WHERE kind = \(kind.rawValue) AND object_id = ANY(\(ids))
                """) {
                stored[try row.decode("object_id")] = try row.decode("values", as: PostgresJSON.self).decode([String: JSONValue].self)
            }
        }
        var tabs: [UUID: [AttributeTabEntry]] = [:]
        for id in ids {
            let values = stored[id] ?? [:]
            tabs[id] = definitions.map {
                AttributeTabEntry(key: $0.key, name: $0.name, type: $0.type, position: $0.position, value: values[$0.key] ?? .null)
            }
        }
        return tabs
    }

    /// Locks the object's values row (created empty at version 0 when there is none, so two
    /// first writes serialise too) and returns it with its version, for `If-Match`.
    func lockedVersion(of kind: ObjectKind, id: UUID, in transaction: PostgresTransaction) async throws -> AttributeValues {
        try await transaction.execute("""
            INSERT INTO attribute_values (kind, object_id, version, updated_at) VALUES (\(kind.rawValue), \(id), 0, now())
            ON CONFLICT DO NOTHING
            """)
        let (stored, version) = try await storedValues(of: kind, id: id, in: transaction, lock: true)
        return AttributeValues(kind: kind, objectId: id, version: version, values: stored)
    }

    /// Checks a change (`null` clears) and returns it normalised, or the errors, each named
    /// `<fieldPrefix><key>`.
    func validate(
        _ change: [String: JSONValue], of kind: ObjectKind, fieldPrefix: String, in transaction: PostgresTransaction
    ) async throws -> (normalized: [String: JSONValue], errors: [FieldError]) {
        let definitions = Dictionary(uniqueKeysWithValues: try await sets.activeDefinitions(of: kind, in: transaction).map { ($0.key, $0) })
        var normalized: [String: JSONValue] = [:]
        var errors: [FieldError] = []
        for (key, value) in change.sorted(by: { $0.key < $1.key }) {
            let field = fieldPrefix + key
            guard let definition = definitions[key] else {
                errors.append(FieldError(field: field, message: "is not an attribute of the \(kind.rawValue) set"))
                continue
            }
            if value.isNull {
                if definition.required { errors.append(FieldError(field: field, message: "is required and cannot be cleared")) }
                normalized[key] = .null
                continue
            }
            switch try await check(value, against: definition, in: transaction) {
            case .success(let checked): normalized[key] = checked
            case .failure(let invalid): errors.append(FieldError(field: field, message: invalid.message))
            }
        }
        return (normalized, errors)
    }

    /// Applies an already validated change; returns the new document, or the old one when
    /// nothing changed (no version bump, nothing published).
    @discardableResult
    func apply(
        _ change: [String: JSONValue], to kind: ObjectKind, id: UUID, in transaction: PostgresTransaction
    ) async throws -> AttributeValues {
        // Make sure a row exists to lock, so two first writes for one object serialise too.
        try await transaction.execute("""
            INSERT INTO attribute_values (kind, object_id, version, updated_at) VALUES (\(kind.rawValue), \(id), 0, now())
            ON CONFLICT DO NOTHING
            """)
        let (stored, version) = try await storedValues(of: kind, id: id, in: transaction, lock: true)
        var updated = stored
        for (key, value) in change { updated[key] = value.isNull ? nil : value }
        guard updated != stored else { return try await values(of: kind, id: id, in: transaction) }
        let encoded = try PostgresJSON(encoding: updated)
        guard encoded.text.utf8.count <= SizeBudget.attributeValuesBytes else {
            throw Problem.unprocessable(errors: [FieldError(
                field: "values", message: "must take at most \(SizeBudget.attributeValuesBytes / 1024) KiB together as JSON")])
        }
        let newVersion = version + 1
        try await transaction.execute("""
            INSERT INTO attribute_values (kind, object_id, "values", version, updated_at)
            VALUES (\(kind.rawValue), \(id), \(encoded), \(newVersion), now())
            ON CONFLICT (kind, object_id) DO UPDATE SET "values" = EXCLUDED."values", version = EXCLUDED.version,
                updated_at = EXCLUDED.updated_at
            """)
        return try await publish(kind, id: id, in: transaction)
    }

    /// Enqueues the object's current values (after a change, and for `crm republish`).
    @discardableResult
    func publish(_ kind: ObjectKind, id: UUID, in transaction: PostgresTransaction) async throws -> AttributeValues {
        let document = try await values(of: kind, id: id, in: transaction)
        let key = document.key
        let event = CloudEvent(
            source: AttributesService.name, type: AttributeValues.eventType, subject: key,
            version: Int64(document.version), data: document)
        try await outbox.enqueue(event, topic: Topic.attributeValues, key: key, in: transaction)
        return document
    }

    private func storedValues(
        of kind: ObjectKind, id: UUID, in transaction: PostgresTransaction, lock: Bool = false
    ) async throws -> ([String: JSONValue], Int) {
        let rows = try await transaction.query("""
            SELECT "values", version FROM attribute_values WHERE kind = \(kind.rawValue) AND object_id = \(id)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """)
        guard let row = rows.first else { return ([:], 0) }
        return (try row.decode("values", as: PostgresJSON.self).decode([String: JSONValue].self), try row.decode("version"))
    }

    private static func shown(_ stored: [String: JSONValue], _ definitions: [AttributeDefinition]) -> [String: JSONValue] {
        var shown: [String: JSONValue] = [:]
        for definition in definitions { if let value = stored[definition.key] { shown[definition.key] = value } }
        return shown
    }

    /// The value in its stored form, after checking a reference points to a live object.
    private func check(
        _ value: JSONValue, against definition: AttributeDefinition, in transaction: PostgresTransaction
    ) async throws -> Result<JSONValue, AttributeValueFormat.Invalid> {
        let normalized = AttributeValueFormat.normalize(value, for: definition)
        guard case .success(let stored) = normalized, definition.type == .reference, let kind = definition.referenceKind,
              let id = stored.stringValue.flatMap(UUID.init(uuidString:))
        else { return normalized }
        guard try await transaction.catalogObjectIsLive(id, kind: kind) else {
            return .failure(.init(message: "refers to no existing \(kind.rawValue)"))
        }
        return normalized
    }
}

import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit

/// The attribute sets: positions kept a dense 1…n sequence, every change published whole.
struct AttributeSetStore: Sendable {
    let outbox: Outbox

    func activeDefinitions(of kind: ObjectKind, in transaction: PostgresTransaction) async throws -> [AttributeDefinition] {
        try await transaction.query("""
            SELECT id, key, name, type, options, reference_kind, required, position, description
            FROM attribute_definitions WHERE kind = \(kind.rawValue) AND NOT retired ORDER BY position
            """).map(Self.definition)
    }

    func set(of kind: ObjectKind, in transaction: PostgresTransaction) async throws -> AttributeSet {
        let version = try await transaction.query("SELECT version FROM attribute_sets WHERE kind = \(kind.rawValue)")
            .first?.decode("version", as: Int.self) ?? 0
        return AttributeSet(kind: kind, version: version, attributes: try await activeDefinitions(of: kind, in: transaction))
    }

    /// Adds an attribute at `position` (default last), shifting later ones down.
    func add(_ request: NewAttribute, to kind: ObjectKind, in transaction: PostgresTransaction) async throws -> AttributeDefinition {
        let current = try await lockSet(kind, in: transaction)
        let position = request.position ?? current.count + 1
        guard (1...current.count + 1).contains(position) else {
            throw Problem.unprocessable(errors: [FieldError(field: "position", message: "must be between 1 and \(current.count + 1)")])
        }
        if try await !transaction.query("SELECT 1 FROM attribute_definitions WHERE kind = \(kind.rawValue) AND key = \(request.key)").isEmpty {
            throw Problem.conflict("The \(kind.rawValue) set already has an attribute with key '\(request.key)'.")
        }
        try await transaction.execute("""
            UPDATE attribute_definitions SET position = position + 1
            WHERE kind = \(kind.rawValue) AND NOT retired AND position >= \(position)
            """)
        let id = UUID()
        try await transaction.execute("""
            INSERT INTO attribute_definitions (id, kind, key, name, type, options, reference_kind, required, position, description)
            VALUES (\(id), \(kind.rawValue), \(request.key), \(request.name), \(request.type.rawValue), \(request.options),
                    \(request.referenceKind?.rawValue), \(request.required), \(position), \(request.description))
            """)
        try await publish(kind, in: transaction)
        return try await definition(id, of: kind, in: transaction)
    }

    /// Renames, moves, adds options, changes `required` or `description`.
    /// `ifMatch` is compared with the set's version: an attribute has no version of its own, and
    /// any change to the set may move it.
    func update(
        _ id: UUID, of kind: ObjectKind, with change: AttributeChange, ifMatch: IfMatch?, in transaction: PostgresTransaction
    ) async throws -> AttributeDefinition {
        let current = try await lockSet(kind, in: transaction)
        if let ifMatch {
            let version = try await set(of: kind, in: transaction).version
            guard ifMatch.matches(version: version) else { throw Problem.preconditionFailed("The \(kind.rawValue) set is at version \(version).") }
        }
        guard let existing = current.first(where: { $0.id == id }) else { throw Problem.notFound("No active attribute \(id) in the \(kind.rawValue) set.") }
        var errors: [FieldError] = []
        if let type = change.type, type != existing.type {
            errors.append(FieldError(field: "type", message: "cannot change; retire the attribute and add a new one"))
        }
        if let key = change.key, key != existing.key { errors.append(FieldError(field: "key", message: "cannot change")) }
        if let options = change.options {
            if existing.type != .enum { errors.append(FieldError(field: "options", message: "only enum attributes have options")) }
            if !Set(existing.options).isSubset(of: Set(options)) {
                errors.append(FieldError(field: "options", message: "may only add options; existing ones must stay"))
            }
        }
        if let position = change.position, !(1...current.count).contains(position) {
            errors.append(FieldError(field: "position", message: "must be between 1 and \(current.count)"))
        }
        if let name = change.name, name.trimmingCharacters(in: .whitespaces).isEmpty {
            errors.append(FieldError(field: "name", message: "must not be empty"))
        }
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }

        if let target = change.position, target != existing.position {
            // Close the gap at the old position and open one at the new position.
            if target < existing.position {
                try await transaction.execute("""
                    UPDATE attribute_definitions SET position = position + 1
                    WHERE kind = \(kind.rawValue) AND NOT retired AND position >= \(target) AND position < \(existing.position)
                    """)
            } else {
                try await transaction.execute("""
                    UPDATE attribute_definitions SET position = position - 1
                    WHERE kind = \(kind.rawValue) AND NOT retired AND position > \(existing.position) AND position <= \(target)
                    """)
            }
            try await transaction.execute("UPDATE attribute_definitions SET position = \(target) WHERE id = \(id)")
        }
        let options = change.options.map { existing.options + $0.filter { !existing.options.contains($0) } } ?? existing.options
        try await transaction.execute("""
            UPDATE attribute_definitions SET name = \(change.name?.trimmingCharacters(in: .whitespaces) ?? existing.name),
                options = \(options), required = \(change.required ?? existing.required),
                description = \(change.description ?? existing.description)
            WHERE id = \(id)
            """)
        try await publish(kind, in: transaction)
        return try await definition(id, of: kind, in: transaction)
    }

    /// Retires an attribute: out of the set and the cards, its stored values kept.
    func retire(_ id: UUID, of kind: ObjectKind, in transaction: PostgresTransaction) async throws {
        let current = try await lockSet(kind, in: transaction)
        guard let existing = current.first(where: { $0.id == id }) else { throw Problem.notFound("No active attribute \(id) in the \(kind.rawValue) set.") }
        try await transaction.execute("UPDATE attribute_definitions SET retired = true, position = NULL WHERE id = \(id)")
        try await transaction.execute("""
            UPDATE attribute_definitions SET position = position - 1
            WHERE kind = \(kind.rawValue) AND NOT retired AND position > \(existing.position)
            """)
        try await publish(kind, in: transaction)
    }

    /// Serialises changes to one kind's set and returns its active attributes.
    private func lockSet(_ kind: ObjectKind, in transaction: PostgresTransaction) async throws -> [AttributeDefinition] {
        try await transaction.execute("INSERT INTO attribute_sets (kind) VALUES (\(kind.rawValue)) ON CONFLICT DO NOTHING")
        try await transaction.execute("SELECT 1 FROM attribute_sets WHERE kind = \(kind.rawValue) FOR UPDATE")
        return try await activeDefinitions(of: kind, in: transaction)
    }

    private func publish(_ kind: ObjectKind, in transaction: PostgresTransaction) async throws {
        try await transaction.execute("UPDATE attribute_sets SET version = version + 1 WHERE kind = \(kind.rawValue)")
        try await republish(kind, in: transaction)
    }

    /// Enqueues the set's current snapshot without changing it (`crm republish`).
    func republish(_ kind: ObjectKind, in transaction: PostgresTransaction) async throws {
        let set = try await set(of: kind, in: transaction)
        let event = CloudEvent(
            source: AttributesService.name, type: AttributeSet.eventType, subject: kind.rawValue,
            version: Int64(set.version), data: set)
        try await outbox.enqueue(event, topic: Topic.attributeSets, key: kind.rawValue, in: transaction)
    }

    private func definition(_ id: UUID, of kind: ObjectKind, in transaction: PostgresTransaction) async throws -> AttributeDefinition {
        let rows = try await transaction.query("""
            SELECT id, key, name, type, options, reference_kind, required, position, description
            FROM attribute_definitions WHERE id = \(id)
            """)
        return try Self.definition(rows[0])
    }

    private static func definition(_ row: PostgresRow) throws -> AttributeDefinition {
        AttributeDefinition(
            id: try row.decode("id"), key: try row.decode("key"), name: try row.decode("name"),
            type: AttributeType(rawValue: try row.decode("type", as: String.self)) ?? .string,
            options: try row.decode("options"),
            referenceKind: try row.decodeIfPresent("reference_kind", as: String.self).flatMap(ObjectKind.init(rawValue:)),
            required: try row.decode("required"), position: try row.decodeIfPresent("position") ?? 0,
            description: try row.decodeIfPresent("description"))
    }
}

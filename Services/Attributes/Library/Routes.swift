import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// Who may do what here: admins change sets; managers and admins change catalog objects and
/// values; viewers read; integrations have no access to this service.
enum Access {
    static let read: Set<Role> = [.admin, .manager, .viewer]
    static let write: Set<Role> = [.admin, .manager]
    static let administer: Set<Role> = [.admin]
}

/// The HTTP API of crm-attributes (API.md, section crm-attributes).
struct AttributesRoutes: Sendable {
    let pool: PostgresPool
    let catalogs: CatalogStore
    let sets: AttributeSetStore
    let values: AttributeValueStore
    let defaultCountryCode: String
    /// `Idempotency-Key` handling with the service's configured time to live.
    let idempotency: IdempotentRequests

    func register(on router: Router<CRMRequestContext>) {
        for catalog in Catalog.all { registerCatalog(catalog, on: router) }
        registerSets(on: router)
        registerValues(on: router)
    }

    private func registerCatalog(_ catalog: Catalog, on router: Router<CRMRequestContext>) {
        let group = router.group(RouterPath("v1/\(catalog.path)"))
        group.post { request, context in
            let principal = try context.require(anyOf: Access.write)
            let body = try await request.decode(as: [String: JSONValue].self, context: context)
            return try await idempotency.run(
                key: try request.idempotencyKey(), principal: principal,
                fingerprint: try Self.fingerprint(request, body), pool: pool
            ) { transaction in
                let (object, version) = try await catalogs.create(body, in: catalog, transaction: transaction)
                return try .init(status: .created, json: object, version: version)
            }
        }
        group.get { request, context in
            try context.require(anyOf: Access.read)
            let query = try CatalogQuery(catalog: catalog, request: request, defaultCountryCode: defaultCountryCode)
            return try await pool.withTransaction { transaction in
                let (ids, next) = try await query.run(sets: sets, in: transaction)
                return Page(items: try await catalogs.representations(ids, in: catalog, transaction: transaction), nextCursor: next)
            }
        }
        group.get(":id") { request, context in
            try context.require(anyOf: Access.read)
            let id = try Self.id(context)
            let (object, version) = try await pool.withTransaction {
                try await catalogs.representation(id, in: catalog, transaction: $0)
            }
            return VersionedResponse(object, version: version)
        }
        group.patch(":id") { request, context in
            try context.require(anyOf: Access.write)
            let id = try Self.id(context)
            let body = try await request.decode(as: [String: JSONValue].self, context: context)
            let ifMatch = request.ifMatch
            let (object, version) = try await pool.withTransaction {
                try await catalogs.update(id, with: body, ifMatch: ifMatch, in: catalog, transaction: $0)
            }
            return VersionedResponse(object, version: version)
        }
        group.delete(":id") { request, context in
            try context.require(anyOf: Access.write)
            let id = try Self.id(context)
            let ifMatch = request.ifMatch
            let (object, version) = try await pool.withTransaction {
                try await catalogs.delete(id, ifMatch: ifMatch, in: catalog, transaction: $0)
            }
            return VersionedResponse(object, version: version)
        }
    }

    private func registerSets(on router: Router<CRMRequestContext>) {
        let group = router.group("v1/attribute-sets")
        group.get(":kind") { _, context in
            try context.require(anyOf: Access.read)
            let kind = try Self.kind(context)
            let set = try await pool.withTransaction { try await sets.set(of: kind, in: $0) }
            return VersionedResponse(set, version: set.version)
        }
        group.post(":kind/attributes") { request, context in
            let principal = try context.require(anyOf: Access.administer)
            let kind = try Self.kind(context)
            let body = try await request.decode(as: [String: JSONValue].self, context: context)
            let attribute = try NewAttribute(body)
            return try await idempotency.run(
                key: try request.idempotencyKey(), principal: principal,
                fingerprint: try Self.fingerprint(request, body), pool: pool
            ) { transaction in
                try .init(status: .created, json: try await sets.add(attribute, to: kind, in: transaction))
            }
        }
        group.patch(":kind/attributes/:id") { request, context in
            try context.require(anyOf: Access.administer)
            let kind = try Self.kind(context)
            let id = try Self.id(context)
            let change = try AttributeChange(try await request.decode(as: [String: JSONValue].self, context: context))
            let ifMatch = request.ifMatch
            let (attribute, version) = try await pool.withTransaction { transaction in
                let attribute = try await sets.update(id, of: kind, with: change, ifMatch: ifMatch, in: transaction)
                return (attribute, try await sets.set(of: kind, in: transaction).version)
            }
            return VersionedResponse(attribute, version: version)
        }
        group.delete(":kind/attributes/:id") { _, context in
            try context.require(anyOf: Access.administer)
            let kind = try Self.kind(context)
            let id = try Self.id(context)
            try await pool.withTransaction { try await sets.retire(id, of: kind, in: $0) }
            return Response(status: .noContent)
        }
    }

    private func registerValues(on router: Router<CRMRequestContext>) {
        let group = router.group("v1/attribute-values")
        group.get(":kind/:id") { _, context in
            try context.require(anyOf: Access.read)
            let kind = try Self.kind(context)
            let id = try Self.id(context)
            let document = try await pool.withTransaction { transaction in
                try await requireObject(kind, id, in: transaction)
                return try await values.values(of: kind, id: id, in: transaction)
            }
            return VersionedResponse(document, version: document.version)
        }
        group.patch(":kind/:id") { request, context in
            let principal = try context.require(anyOf: Access.write)
            let kind = try Self.kind(context)
            let id = try Self.id(context)
            let body = try await request.decode(as: [String: JSONValue].self, context: context)
            let unknown = unknownMembers(of: body, allowed: ["values", "kind", "objectId", "version"])
            guard let change = body["values"]?.objectValue, unknown.isEmpty else {
                let missing = body["values"]?.objectValue == nil
                    ? [FieldError(field: "values", message: "must be an object of attribute values")] : []
                throw Problem.unprocessable(errors: missing + unknown)
            }
            let ifMatch = request.ifMatch
            let document = try await pool.withTransaction { transaction in
                // Lock order (LockedWrite): the owning object, then its values row.
                let owner = try await lockObject(kind, id, in: transaction)
                let current = try await LockedWrite.lock(
                    "attribute values of \(kind.rawValue)", id: id, ifMatch: ifMatch, version: \.version,
                    load: { try await values.lockedVersion(of: kind, id: id, in: transaction) },
                    authorize: { _ in try Self.authorize(principal, toChangeValuesOf: owner, kind: kind) })
                let checked = try await values.validate(change, of: kind, fieldPrefix: "values.", in: transaction)
                guard checked.errors.isEmpty else { throw Problem.unprocessable(errors: checked.errors) }
                let updated = try await values.apply(checked.normalized, to: kind, id: id, in: transaction)
                if let catalog = kind.catalog, updated.version != current.version {
                    try await catalogs.valuesChanged(id, in: catalog, transaction: transaction)
                }
                return updated
            }
            return VersionedResponse(document, version: document.version)
        }
    }

    /// Who may change an object's values: for catalog objects, every writer; for events and
    /// orders, the people crm-events and crm-documents let change the object itself (admins, its
    /// author and its responsible employee).
    struct ObjectOwners: Sendable {
        var authorId: String?
        var responsibleId: String?
    }

    private static func authorize(_ principal: Principal, toChangeValuesOf owners: ObjectOwners?, kind: ObjectKind) throws {
        guard kind.catalog == nil, !principal.isAdmin, let owners else { return }
        let subject = principal.subject.lowercased()
        guard owners.authorId == subject || owners.responsibleId == subject else {
            throw Problem.forbidden("Only the author, the responsible employee or an admin may change this \(kind.rawValue)'s values.")
        }
    }

    /// Locks the object the values belong to (`FOR UPDATE`) and returns its owners (nil for
    /// catalog objects); 404 when it does not exist or is deleted.
    private func lockObject(_ kind: ObjectKind, _ id: UUID, in transaction: PostgresTransaction) async throws -> ObjectOwners? {
        let rows: [PostgresRow]
        if kind.catalog != nil {
            rows = try await transaction.query("""
                SELECT NULL::text AS author_id, NULL::text AS responsible_id FROM catalog_objects
                WHERE id = \(id) AND kind = \(kind.rawValue) AND NOT deleted FOR UPDATE
                """)
        } else {
            rows = try await transaction.query("""
                SELECT author_id, responsible_id FROM known_objects
                WHERE id = \(id) AND kind = \(kind.rawValue) AND NOT deleted FOR UPDATE
                """)
        }
        guard let row = rows.first else { throw Problem.notFound("No \(kind.rawValue) with id \(id.lowercasedText) is known here.") }
        if kind.catalog != nil { return nil }
        return ObjectOwners(authorId: try row.decodeIfPresent("author_id"), responsibleId: try row.decodeIfPresent("responsible_id"))
    }

    /// Catalog objects must exist here; events and orders must have been seen on their topics.
    private func requireObject(_ kind: ObjectKind, _ id: UUID, in transaction: PostgresTransaction) async throws {
        let exists: Bool
        if kind.catalog != nil {
            exists = try await catalogs.exists(id, kind: kind, transaction: transaction)
        } else {
            exists = try await !transaction.query("""
                SELECT 1 FROM known_objects WHERE id = \(id) AND kind = \(kind.rawValue) AND NOT deleted
                """).isEmpty
        }
        guard exists else { throw Problem.notFound("No \(kind.rawValue) with id \(id.lowercasedText) is known here.") }
    }

    private static func id(_ context: CRMRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: try context.parameters.require("id")) else { throw Problem.notFound() }
        return id
    }

    private static func kind(_ context: CRMRequestContext) throws -> ObjectKind {
        let text = try context.parameters.require("kind")
        guard let kind = ObjectKind(rawValue: text) else {
            throw Problem.notFound("Unknown kind '\(text)'; kinds are \(ObjectKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return kind
    }

    /// Identifies a creating request for Idempotency-Key reuse checks.
    private static func fingerprint(_ request: Request, _ body: [String: JSONValue]) throws -> String {
        "\(request.method) \(request.uri.path) " + String(decoding: try CRMJSON.makeEncoder().encode(body), as: UTF8.self)
    }
}

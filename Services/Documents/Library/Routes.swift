import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The HTTP API of crm-documents (API.md, section crm-documents). Viewers read; managers and
/// admins write (managers only orders they author or are responsible for, see
/// `OrderStore.mayModify`); integrations (ERP and e-commerce connectors) may create, and read and
/// change only what they created — never lists, the structure, or a basis they did not create.
struct DocumentRoutes: Sendable {
    static let readers: Set<Role> = [.admin, .manager, .viewer]
    static let creators: Set<Role> = [.admin, .manager, .integration]
    static let editors: Set<Role> = [.admin, .manager, .integration]

    let pool: PostgresPool
    let store: OrderStore
    /// `Idempotency-Key` handling with the service's configured time to live.
    let idempotency: IdempotentRequests

    func register(on router: Router<CRMRequestContext>) {
        for kind in OrderKind.allCases {
            registerOrders(kind, on: router)
        }
        router.get("v1/structure") { request, context in
            try context.require(anyOf: Self.readers)
            let query = try StructureQuery(request: request)
            return try await pool.withTransaction { transaction in
                try await Self.readSnapshot(transaction)
                return try await query.run(in: transaction)
            }
        }
    }

    private func registerOrders(_ kind: OrderKind, on router: Router<CRMRequestContext>) {
        let orders = router.group(RouterPath("v1/\(kind.path)"))
        orders.post { request, context in
            let principal = try context.require(anyOf: Self.creators)
            let body = try await Self.body(request, context)
            let fingerprint = "\(request.method) \(request.uri.path) "
                + String(decoding: try CRMJSON.makeEncoder().encode(body), as: UTF8.self)
            return try await idempotency.run(
                key: try request.idempotencyKey(), principal: principal, fingerprint: fingerprint, pool: pool
            ) { transaction in
                try await Self.requireReadableBasis(body, for: principal, store: store, in: transaction)
                let order = try await store.create(kind, body: body, authorId: principal.subject, in: transaction)
                return try .init(status: .created, json: order, version: order.version)
            }
        }
        orders.get { request, context in
            try context.require(anyOf: Self.readers)
            let query = try OrderQuery(kind: kind, request: request)
            return try await pool.withTransaction { transaction in
                try await Self.readSnapshot(transaction)
                return try await query.run(store: store, in: transaction)
            }
        }
        orders.get(":id") { _, context in
            let principal = try context.require(anyOf: Self.readers.union([.integration]))
            let id = try Self.id(context)
            let order = try await pool.withTransaction { transaction in
                try await Self.readSnapshot(transaction)
                return try await store.get(id, kind: kind, in: transaction)
            }
            // An integration reads back what it created; anything else does not exist for it.
            guard principal.hasAny(of: Self.readers) || order.authorId == principal.subject else {
                throw Problem.notFound("No \(kind.noun) with id \(id.lowercasedText).")
            }
            return VersionedResponse(order, version: order.version)
        }
        orders.patch(":id") { request, context in
            let principal = try context.require(anyOf: Self.editors)
            let id = try Self.id(context)
            let body = try await Self.body(request, context)
            let ifMatch = request.ifMatch
            let order = try await pool.withTransaction {
                try await store.update(id, kind: kind, body: body, ifMatch: ifMatch, by: principal, in: $0)
            }
            return VersionedResponse(order, version: order.version)
        }
        orders.delete(":id") { request, context in
            let principal = try context.require(anyOf: Self.editors)
            let id = try Self.id(context)
            let ifMatch = request.ifMatch
            let order = try await pool.withTransaction {
                try await store.delete(id, kind: kind, ifMatch: ifMatch, by: principal, in: $0)
            }
            return VersionedResponse(order, version: order.version)
        }
        for transition in OrderStore.Transition.allCases {
            orders.post(RouterPath(":id/\(transition.rawValue)")) { request, context in
                let principal = try context.require(anyOf: Self.editors)
                let id = try Self.id(context)
                let ifMatch = request.ifMatch
                let order = try await pool.withTransaction {
                    try await store.transition(id, kind: kind, transition, ifMatch: ifMatch, by: principal, in: $0)
                }
                return VersionedResponse(order, version: order.version)
            }
        }
    }

    private static func id(_ context: CRMRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: try context.parameters.require("id")) else { throw Problem.notFound() }
        return id
    }

    /// The JSON object of a create or PATCH; 400 when it is not JSON or not an object.
    private static func body(_ request: Request, _ context: CRMRequestContext) async throws -> [String: JSONValue] {
        try await request.decode(as: [String: JSONValue].self, context: context)
    }

    /// A basis hands its counterparty, deal, lines and prices to the new order and its response:
    /// a caller who may not read documents (an integration) may only base an order on one it
    /// created itself.
    private static func requireReadableBasis(
        _ body: [String: JSONValue], for principal: Principal, store: OrderStore, in transaction: PostgresTransaction
    ) async throws {
        guard !principal.hasAny(of: readers), let basis = body["basis"]?.objectValue else { return }
        let refused = Problem.forbidden("An integration may only base an order on an order it created.")
        guard let kind = basis["kind"]?.stringValue.flatMap(OrderKind.init(rawValue:)),
            let id = basis["id"]?.stringValue.flatMap(UUID.init(uuidString:))
        else { throw refused }
        let order = try? await store.get(id, kind: kind, in: transaction)
        guard order?.authorId == principal.subject else { throw refused }
    }

    /// An order is read in two statements (header, then lines): one snapshot for both, so a
    /// read racing a PATCH never pairs version 3's total with version 4's lines.
    private static func readSnapshot(_ transaction: PostgresTransaction) async throws {
        try await transaction.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    }
}

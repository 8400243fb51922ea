import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// The HTTP API of crm-events (API.md, section crm-events). Viewers read; managers and admins
/// write (managers only their own events, see `EventStore.mayModify`); integrations may create.
struct EventRoutes: Sendable {
    static let readers: Set<Role> = [.admin, .manager, .viewer]
    static let creators: Set<Role> = [.admin, .manager, .integration]
    static let editors: Set<Role> = [.admin, .manager, .integration]

    let pool: PostgresPool
    let store: EventStore
    /// `Idempotency-Key` handling with the service's configured time to live.
    let idempotency: IdempotentRequests
    /// The body budget of `/complete`, `/cancel` and `/reopen` (a reason of ≤ 300 characters).
    static let transitionBodyBytes = 16 * 1024

    func register(on router: Router<CRMRequestContext>) {
        let events = router.group("v1/events")
        events.post { request, context in
            let principal = try context.require(anyOf: Self.creators)
            let body = try await request.decode(as: [String: JSONValue].self, context: context)
            return try await create(request, principal: principal, fingerprintBody: body) { transaction in
                var draft = EventDraft()
                var errors: [FieldError] = []
                draft.apply(body, allowState: true, errors: &errors)
                try await draft.validate(errors: &errors, in: transaction)
                guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
                return draft
            }
        }
        events.get { request, context in
            try context.require(anyOf: Self.readers)
            let query = try EventQuery(request: request)
            return try await pool.withTransaction { try await query.run(in: $0) }
        }
        events.get(":id") { _, context in
            try context.require(anyOf: Self.readers)
            let id = try Self.id(context)
            let event = try await pool.withTransaction { try await store.get(id, in: $0) }
            return VersionedResponse(event, version: event.version)
        }
        events.patch(":id") { request, context in
            let principal = try context.require(anyOf: Self.editors)
            let id = try Self.id(context)
            let body = try await request.decode(as: [String: JSONValue].self, context: context)
            let ifMatch = request.ifMatch
            let event = try await pool.withTransaction {
                try await store.update(id, with: body, ifMatch: ifMatch, by: principal, in: $0)
            }
            return VersionedResponse(event, version: event.version)
        }
        events.delete(":id") { request, context in
            let principal = try context.require(anyOf: Self.editors)
            let id = try Self.id(context)
            let ifMatch = request.ifMatch
            let event = try await pool.withTransaction { try await store.delete(id, ifMatch: ifMatch, by: principal, in: $0) }
            return VersionedResponse(event, version: event.version)
        }
        for transition in [EventStore.Transition.complete, .cancel, .reopen] {
            events.post(RouterPath(":id/\(transition.rawValue)")) { request, context in
                // A state change carries at most a reason: its own, smaller body budget.
                var context = context
                context.limitBody(to: Self.transitionBodyBytes)
                let principal = try context.require(anyOf: Self.editors)
                let id = try Self.id(context)
                let reason = transition == .cancel ? try await Self.reason(request, context) : nil
                let ifMatch = request.ifMatch
                let event = try await pool.withTransaction {
                    try await store.transition(id, transition, reason: reason, ifMatch: ifMatch, by: principal, in: $0)
                }
                return VersionedResponse(event, version: event.version)
            }
        }
        events.post(":id/follow-ups") { request, context in
            // A follow-up copies the event and answers with the copy: only callers who may read
            // the event may make one (an integration would otherwise learn a subject it cannot read).
            let principal = try context.require(anyOf: Self.creators.intersection(Self.readers))
            let id = try Self.id(context)
            let body = try await Self.optionalBody(request, context)
            return try await create(request, principal: principal, fingerprintBody: body) { transaction in
                let basis = try await store.get(id, in: transaction)
                var draft = EventDraft()
                draft.channel = basis.channel
                draft.direction = basis.direction
                draft.subject = basis.subject
                draft.counterpartyId = basis.counterpartyId
                draft.contactId = basis.contactId
                draft.dealId = basis.dealId
                draft.projectId = basis.projectId
                draft.responsibleId = basis.responsibleId
                draft.basis = Basis(kind: "event", id: basis.id)
                var errors: [FieldError] = []
                draft.apply(body.filter { $0.key != "basis" }, allowState: true, errors: &errors)
                try await draft.validate(errors: &errors, in: transaction)
                guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
                return draft
            }
        }
    }

    /// Creates an event from the draft `prepare` returns, honouring `Idempotency-Key`.
    private func create(
        _ request: Request, principal: Principal, fingerprintBody: [String: JSONValue],
        prepare: @escaping @Sendable (PostgresTransaction) async throws -> EventDraft
    ) async throws -> Response {
        let fingerprint = "\(request.method) \(request.uri.path) "
            + String(decoding: try CRMJSON.makeEncoder().encode(fingerprintBody), as: UTF8.self)
        return try await idempotency.run(
            key: try request.idempotencyKey(), principal: principal, fingerprint: fingerprint, pool: pool
        ) { transaction in
            let draft = try await prepare(transaction)
            let event = try await store.insert(draft, origin: .init(authorId: principal.subject), in: transaction)
            return try .init(status: .created, json: event, version: event.version)
        }
    }

    private static func id(_ context: CRMRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: try context.parameters.require("id")) else { throw Problem.notFound() }
        return id
    }

    private static func optionalBody(_ request: Request, _ context: CRMRequestContext) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { return [:] }
        try NULCharacters.refuse(in: Data(buffer.readableBytesView))
        do {
            return try CRMJSON.makeDecoder().decode([String: JSONValue].self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw Problem(malformedJSON: error)
        }
    }

    private static func reason(_ request: Request, _ context: CRMRequestContext) async throws -> String? {
        let body = try await optionalBody(request, context)
        guard let value = body["reason"], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw Problem.unprocessable(errors: [FieldError(field: "reason", message: "must be a string")])
        }
        var errors: [FieldError] = []
        SizeBudget.check(text, field: "reason", maxCharacters: SizeBudget.shortText, errors: &errors)
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        return text
    }
}

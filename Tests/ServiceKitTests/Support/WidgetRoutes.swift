import Foundation
import Hummingbird
import ServiceKit

/// Routes of a pretend catalog, one per ServiceKit feature under test.
struct WidgetRoutes {
    struct WidgetDraft: Decodable {
        var name: String
        var quantity: Int
        var startsAt: Date
        var endsAt: Date?
    }

    struct Widget: Codable, Sendable, Equatable {
        var id: Int
        var name: String
    }

    struct Position: Codable {
        var afterID: Int
    }

    /// Stands for an error with internals that must never reach a client.
    struct DatabaseExploded: Error {
        let connectionString = "postgresql://postgres:hunter2@db/crm"
    }

    static let catalogSize = 120

    func register(on router: Router<CRMRequestContext>) {
        router.get("/v1/whoami") { _, context -> [String: String] in
            let principal = try context.requirePrincipal()
            return ["subject": principal.subject, "roles": principal.roles.map(\.rawValue).sorted().joined(separator: ",")]
        }

        router.get("/v1/widgets") { request, _ -> Page<Widget> in
            let page = try PageRequest(request: request)
            let afterID = try page.decodeCursor(as: Position.self)?.afterID ?? 0
            // Fetch one more than asked for, as a real query would, to learn whether a next page exists.
            let rows = (afterID + 1..<Self.catalogSize + 1).prefix(page.limit + 1).map { Widget(id: $0, name: "widget \($0)") }
            return try Page(fetched: rows, limit: page.limit) { Position(afterID: $0.id) }
        }

        router.post("/v1/widgets") { request, context -> VersionedResponse<Widget> in
            try context.require(anyOf: [.admin, .manager])
            let draft = try await request.decode(as: WidgetDraft.self, context: context)
            try Self.validate(draft)
            return VersionedResponse(Widget(id: 1, name: draft.name), version: 1, status: .created)
        }

        router.patch("/v1/widgets/:id") { request, context -> VersionedResponse<Widget> in
            try context.require(anyOf: [.admin, .manager])
            let currentVersion = 7
            try request.checkIfMatch(currentVersion: currentVersion)
            return VersionedResponse(Widget(id: 1, name: "renamed"), version: currentVersion + 1)
        }

        router.post("/v1/idempotent") { request, _ -> [String: String] in
            ["key": try request.idempotencyKey()?.value ?? "none"]
        }

        router.get("/v1/crash") { _, _ -> String in
            throw DatabaseExploded()
        }

        router.get("/v1/calendars/:employeeId/feed.ics") { _, context -> String in
            context.principal == nil ? "public feed" : "feed with principal"
        }

        router.get("/v1/calendars/:employeeId/entries") { _, context -> String in
            try context.requirePrincipal().subject
        }
    }

    /// Collects every bad field before failing, as the API promises.
    static func validate(_ draft: WidgetDraft) throws {
        var errors: [FieldError] = []
        if draft.name.isEmpty || draft.name.count > 20 {
            errors.append(FieldError(field: "name", message: "must be 1 to 20 characters"))
        }
        if draft.quantity <= 0 {
            errors.append(FieldError(field: "quantity", message: "must be greater than 0"))
        }
        if let endsAt = draft.endsAt, endsAt < draft.startsAt {
            errors.append(FieldError(field: "endsAt", message: "must not be before startsAt"))
        }
        if !errors.isEmpty { throw Problem.unprocessable(errors: errors) }
    }
}

import Contracts
import Foundation
import Postgres
import ServiceKit

/// The writable fields of an event, built from defaults or a stored event and a JSON body,
/// then checked as a whole (every bad field listed in one 422).
struct EventDraft: Sendable {
    var channel = Channel.other.rawValue
    var direction = Direction.internal.rawValue
    var state = EventState.planned.rawValue
    var subject = ""
    var content: String?
    var counterpartyId: UUID?
    var contactId: UUID?
    var dealId: UUID?
    var projectId: UUID?
    var responsibleId: UUID?
    var startsAt: Date?
    var endsAt: Date?
    var basis: Basis?
    var cancelReason: String?

    static let maximumSubjectLength = SizeBudget.subject

    init() {}

    init(_ event: Event) {
        channel = event.channel
        direction = event.direction
        state = event.state
        subject = event.subject
        content = event.content
        counterpartyId = event.counterpartyId
        contactId = event.contactId
        dealId = event.dealId
        projectId = event.projectId
        responsibleId = event.responsibleId
        startsAt = event.startsAt
        endsAt = event.endsAt
        basis = event.basis
        cancelReason = event.cancelReason
    }

    /// Applies the members present in `body` (`null` clears). `allowState` is false for PATCH:
    /// state changes go through complete/cancel/reopen.
    mutating func apply(_ body: [String: JSONValue], allowState: Bool, errors: inout [FieldError]) {
        func string(_ name: String) -> String?? {
            guard let value = body[name] else { return nil }
            if value.isNull { return .some(nil) }
            guard let text = value.stringValue else {
                errors.append(FieldError(field: name, message: "must be a string"))
                return nil
            }
            return .some(text)
        }
        func choice(_ name: String, _ options: [String]) -> String? {
            guard let value = body[name] else { return nil }
            guard let text = value.stringValue, options.contains(text) else {
                errors.append(FieldError(field: name, message: "must be one of \(options.joined(separator: ", "))"))
                return nil
            }
            return text
        }
        func id(_ name: String) -> UUID?? {
            guard let text = string(name) else { return nil }
            guard let text else { return .some(nil) }
            guard let id = UUID(uuidString: text) else {
                errors.append(FieldError(field: name, message: "must be a UUID"))
                return nil
            }
            return .some(id)
        }
        func date(_ name: String) -> Date?? {
            guard let text = string(name) else { return nil }
            guard let text else { return .some(nil) }
            guard let date = RFC3339.date(from: text) else {
                errors.append(FieldError(field: name, message: "must be an RFC 3339 date-time with offset"))
                return nil
            }
            return .some(date)
        }

        let known: Set<String> = [
            "channel", "direction", "state", "subject", "content", "counterpartyId", "contactId", "dealId", "projectId",
            "responsibleId", "startsAt", "endsAt", "basis", "cancelReason",
            // Server-set members a client may echo back; ignored.
            "id", "number", "authorId", "createdAt", "updatedAt", "completedAt", "cancelledAt", "source", "call",
            "unmatched", "deleted", "version",
        ]
        for name in body.keys.sorted() where !known.contains(name) {
            errors.append(FieldError(field: name, message: "is not a member of an event"))
        }

        if let value = choice("channel", Channel.allCases.map(\.rawValue)) { channel = value }
        if let value = choice("direction", Direction.allCases.map(\.rawValue)) { direction = value }
        if body["state"] != nil {
            if allowState {
                if let value = choice("state", EventState.allCases.map(\.rawValue)) { state = value }
            } else if body["state"]?.stringValue != state {
                errors.append(FieldError(field: "state", message: "changes through /complete, /cancel and /reopen"))
            }
        }
        if let value = string("subject") { subject = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
        if let value = string("content") { content = value }
        if let value = id("counterpartyId") { counterpartyId = value }
        if let value = id("contactId") { contactId = value }
        if let value = id("dealId") { dealId = value }
        if let value = id("projectId") { projectId = value }
        if let value = id("responsibleId") { responsibleId = value }
        if let value = date("startsAt") { startsAt = value }
        if let value = date("endsAt") { endsAt = value }
        if allowState, let value = string("cancelReason") { cancelReason = value }
        if let value = body["basis"] {
            if value.isNull {
                basis = nil
            } else if let object = value.objectValue, object["kind"]?.stringValue == "event",
                      let text = object["id"]?.stringValue, let basisID = UUID(uuidString: text) {
                basis = Basis(kind: "event", id: basisID)
            } else {
                errors.append(FieldError(field: "basis", message: "must be {\"kind\":\"event\",\"id\":\"<event id>\"}"))
            }
        }
    }

    /// The checks that need no database, then the references against the catalog projections.
    func validate(errors: inout [FieldError], in transaction: PostgresTransaction) async throws {
        if subject.isEmpty && !errors.contains(where: { $0.field == "subject" }) {
            errors.append(FieldError(field: "subject", message: "is required"))
        }
        SizeBudget.check(content, field: "content", maxBytes: SizeBudget.longTextBytes, errors: &errors)
        SizeBudget.check(cancelReason, field: "cancelReason", maxCharacters: SizeBudget.shortText, errors: &errors)
        if subject.count > Self.maximumSubjectLength {
            errors.append(FieldError(field: "subject", message: "must be at most \(Self.maximumSubjectLength) characters"))
        }
        if let startsAt, let endsAt, endsAt < startsAt {
            errors.append(FieldError(field: "endsAt", message: "must not be before startsAt"))
        }
        func live(_ table: String, _ id: UUID?) async throws -> Bool {
            guard let id else { return true }
            return try await !transaction.query("SELECT 1 FROM \(identifier: table) WHERE id = \(id) AND NOT deleted").isEmpty
        }
        let references: [(field: String, table: String, noun: String, id: UUID?)] = [
            ("counterpartyId", "counterparties", "counterparty", counterpartyId), ("contactId", "contacts", "contact", contactId),
            ("dealId", "deals", "deal", dealId), ("projectId", "projects", "project", projectId),
            ("responsibleId", "employees", "employee", responsibleId),
        ]
        for reference in references where !errors.contains(where: { $0.field == reference.field }) {
            if try await !live(reference.table, reference.id) {
                errors.append(FieldError(field: reference.field, message: "refers to no existing \(reference.noun)"))
            }
        }
        if let contactId, let counterpartyId, !errors.contains(where: { $0.field == "contactId" || $0.field == "counterpartyId" }) {
            let owner = try await transaction.query("SELECT counterparty_id FROM contacts WHERE id = \(contactId)")
                .first?.decodeIfPresent("counterparty_id", as: UUID.self)
            if owner != counterpartyId {
                errors.append(FieldError(field: "contactId", message: "is not a contact of the counterparty"))
            }
        }
        if let basis, try await transaction.query("SELECT 1 FROM events WHERE id = \(basis.id)").isEmpty {
            errors.append(FieldError(field: "basis", message: "refers to no existing event"))
        }
    }
}

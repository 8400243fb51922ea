import Contracts
import Foundation
import Hummingbird
import Postgres

enum Channel: String, CaseIterable, Sendable { case phoneCall = "phone-call", email, meeting, message, other }
enum Direction: String, CaseIterable, Sendable { case incoming, outgoing, `internal` }
enum EventState: String, CaseIterable, Sendable { case planned, completed, cancelled }

/// The Event document as API.md shows it and as `crm.events.v1` carries it: one type, the
/// topic's payload in Contracts.
typealias Event = EventSnapshot

extension EventSnapshot: ResponseEncodable {}

extension Event {
    static let columns = """
        id, number, channel, direction, state, subject, content, counterparty_id, contact_id, deal_id, project_id,
        responsible_id, starts_at, ends_at, basis_kind, basis_id, author_id, created_at, updated_at, completed_at,
        cancelled_at, cancel_reason, source, call, unmatched, deleted, version
        """

    init(row: PostgresRow) throws {
        var basis: Basis?
        if let kind = try row.decodeIfPresent("basis_kind", as: String.self), let basisID = try row.decodeIfPresent("basis_id", as: UUID.self) {
            basis = Basis(kind: kind, id: basisID)
        }
        self.init(
            id: try row.decode("id"), number: try row.decode("number"), channel: try row.decode("channel"),
            direction: try row.decode("direction"), state: try row.decode("state"), subject: try row.decode("subject"),
            content: try row.decodeIfPresent("content"), counterpartyId: try row.decodeIfPresent("counterparty_id"),
            contactId: try row.decodeIfPresent("contact_id"), dealId: try row.decodeIfPresent("deal_id"),
            projectId: try row.decodeIfPresent("project_id"), responsibleId: try row.decodeIfPresent("responsible_id"),
            startsAt: try row.decodeIfPresent("starts_at"), endsAt: try row.decodeIfPresent("ends_at"), basis: basis,
            authorId: try row.decodeIfPresent("author_id"), createdAt: try row.decode("created_at"),
            updatedAt: try row.decode("updated_at"), completedAt: try row.decodeIfPresent("completed_at"),
            cancelledAt: try row.decodeIfPresent("cancelled_at"), cancelReason: try row.decodeIfPresent("cancel_reason"),
            source: try row.decode("source"),
            call: try row.decodeIfPresent("call", as: PostgresJSON.self).map { try $0.crmDecode(CallDetails.self) },
            unmatched: try row.decode("unmatched"), deleted: try row.decode("deleted"), version: try row.decode("version"))
    }
}

import Contracts
import Foundation
import Hummingbird
import Postgres

enum Channel: String, CaseIterable, Sendable { case phoneCall = "phone-call", email, meeting, message, other }
enum Direction: String, CaseIterable, Sendable { case incoming, outgoing, `internal` }
enum EventState: String, CaseIterable, Sendable { case planned, completed, cancelled }

/// What another document an event was created "based on".
struct Basis: Codable, Sendable, Equatable {
    var kind: String
    var id: UUID

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
    }
}

/// Telephony details of an event recorded from a call.
struct CallDetails: Codable, Sendable, Equatable {
    var callId: String
    var direction: String
    var from: String
    var to: String
    var `extension`: String?
    var status: String
    var startedAt: Date
    var answeredAt: Date?
    var endedAt: Date
    var durationSeconds: Int
    var recordingUrl: String?

    private enum CodingKeys: String, CodingKey {
        case callId, direction, from, to, `extension`, status, startedAt, answeredAt, endedAt, durationSeconds, recordingUrl
    }

    // Every member always present, null when unknown.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callId, forKey: .callId)
        try container.encode(direction, forKey: .direction)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(`extension`, forKey: .extension)
        try container.encode(status, forKey: .status)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(answeredAt, forKey: .answeredAt)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(recordingUrl, forKey: .recordingUrl)
    }
}

/// The Event document as API.md shows it and as `crm.events.v1` carries it.
struct Event: Codable, Sendable, ResponseEncodable {
    var id: UUID
    var number: String
    var channel: String
    var direction: String
    var state: String
    var subject: String
    var content: String?
    var counterpartyId: UUID?
    var contactId: UUID?
    var dealId: UUID?
    var projectId: UUID?
    var responsibleId: UUID?
    var startsAt: Date?
    var endsAt: Date?
    var basis: Basis?
    var authorId: String?
    var createdAt: Date
    var updatedAt: Date
    var completedAt: Date?
    var cancelledAt: Date?
    var cancelReason: String?
    var source: String
    var call: CallDetails?
    var unmatched: Bool
    var deleted: Bool
    var version: Int

    private enum CodingKeys: String, CodingKey {
        case id, number, channel, direction, state, subject, content, counterpartyId, contactId, dealId, projectId
        case responsibleId, startsAt, endsAt, basis, authorId, createdAt, updatedAt, completedAt, cancelledAt
        case cancelReason, source, call, unmatched, deleted, version
    }

    func encode(to encoder: any Encoder) throws {
        func text(_ id: UUID?) -> String? { id?.uuidString.lowercased() }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text(id), forKey: .id)
        try container.encode(number, forKey: .number)
        try container.encode(channel, forKey: .channel)
        try container.encode(direction, forKey: .direction)
        try container.encode(state, forKey: .state)
        try container.encode(subject, forKey: .subject)
        try container.encode(content, forKey: .content)
        try container.encode(text(counterpartyId), forKey: .counterpartyId)
        try container.encode(text(contactId), forKey: .contactId)
        try container.encode(text(dealId), forKey: .dealId)
        try container.encode(text(projectId), forKey: .projectId)
        try container.encode(text(responsibleId), forKey: .responsibleId)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encode(basis, forKey: .basis)
        try container.encode(authorId, forKey: .authorId)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(completedAt, forKey: .completedAt)
        try container.encode(cancelledAt, forKey: .cancelledAt)
        try container.encode(cancelReason, forKey: .cancelReason)
        try container.encode(source, forKey: .source)
        try container.encode(call, forKey: .call)
        try container.encode(unmatched, forKey: .unmatched)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(version, forKey: .version)
    }

    static let columns = """
        id, number, channel, direction, state, subject, content, counterparty_id, contact_id, deal_id, project_id,
        responsible_id, starts_at, ends_at, basis_kind, basis_id, author_id, created_at, updated_at, completed_at,
        cancelled_at, cancel_reason, source, call, unmatched, deleted, version
        """

    init(row: PostgresRow) throws {
        id = try row.decode("id")
        number = try row.decode("number")
        channel = try row.decode("channel")
        direction = try row.decode("direction")
        state = try row.decode("state")
        subject = try row.decode("subject")
        content = try row.decodeIfPresent("content")
        counterpartyId = try row.decodeIfPresent("counterparty_id")
        contactId = try row.decodeIfPresent("contact_id")
        dealId = try row.decodeIfPresent("deal_id")
        projectId = try row.decodeIfPresent("project_id")
        responsibleId = try row.decodeIfPresent("responsible_id")
        startsAt = try row.decodeIfPresent("starts_at")
        endsAt = try row.decodeIfPresent("ends_at")
        if let kind = try row.decodeIfPresent("basis_kind", as: String.self), let basisID = try row.decodeIfPresent("basis_id", as: UUID.self) {
            basis = Basis(kind: kind, id: basisID)
        }
        authorId = try row.decodeIfPresent("author_id")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        completedAt = try row.decodeIfPresent("completed_at")
        cancelledAt = try row.decodeIfPresent("cancelled_at")
        cancelReason = try row.decodeIfPresent("cancel_reason")
        source = try row.decode("source")
        call = try row.decodeIfPresent("call", as: PostgresJSON.self).map { try $0.decode(CallDetails.self, decoder: CRMJSON.makeDecoder()) }
        unmatched = try row.decode("unmatched")
        deleted = try row.decode("deleted")
        version = try row.decode("version")
    }
}

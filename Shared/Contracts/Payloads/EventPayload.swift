import Foundation

/// What another document an event or order was created "based on".
public struct Basis: Codable, Sendable, Equatable {
    /// `event`, `customer-order` or `supplier-order`.
    public var kind: String
    public var id: UUID

    public init(kind: String, id: UUID) {
        self.kind = kind
        self.id = id
    }

    private enum CodingKeys: String, CodingKey { case kind, id }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(id.lowercasedText, forKey: .id)
    }
}

/// Telephony details of an event recorded from a call (`call` of an event snapshot).
public struct CallDetails: Codable, Sendable, Equatable {
    public var callId: String
    /// `inbound` or `outbound`, as the PBX reported it.
    public var direction: String
    public var from: String
    public var to: String
    public var `extension`: String?
    /// `answered`, `missed`, `busy` or `failed`.
    public var status: String
    public var startedAt: Date
    public var answeredAt: Date?
    public var endedAt: Date
    public var durationSeconds: Int
    public var recordingUrl: String?

    public init(
        callId: String, direction: String, from: String, to: String, extension: String?, status: String,
        startedAt: Date, answeredAt: Date?, endedAt: Date, durationSeconds: Int, recordingUrl: String?
    ) {
        self.callId = callId
        self.direction = direction
        self.from = from
        self.to = to
        self.extension = `extension`
        self.status = status
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.durationSeconds = durationSeconds
        self.recordingUrl = recordingUrl
    }

    private enum CodingKeys: String, CodingKey {
        case callId, direction, from, to, `extension`, status, startedAt, answeredAt, endedAt, durationSeconds, recordingUrl
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            callId: try c.decode(String.self, forKey: .callId), direction: try c.decode(String.self, forKey: .direction),
            from: try c.decode(String.self, forKey: .from), to: try c.decode(String.self, forKey: .to),
            extension: try c.decodeIfPresent(String.self, forKey: .extension), status: try c.decode(String.self, forKey: .status),
            startedAt: try c.decodeTimestamp(forKey: .startedAt), answeredAt: try c.decodeTimestampIfPresent(forKey: .answeredAt),
            endedAt: try c.decodeTimestamp(forKey: .endedAt), durationSeconds: try c.decode(Int.self, forKey: .durationSeconds),
            recordingUrl: try c.decodeIfPresent(String.self, forKey: .recordingUrl))
    }

    // Every member always present, null when unknown.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callId, forKey: .callId)
        try container.encode(direction, forKey: .direction)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)
        try container.encode(`extension`, forKey: .extension)
        try container.encode(status, forKey: .status)
        try container.encodeTimestamp(startedAt, forKey: .startedAt)
        try container.encodeTimestamp(answeredAt, forKey: .answeredAt)
        try container.encodeTimestamp(endedAt, forKey: .endedAt)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(recordingUrl, forKey: .recordingUrl)
    }
}

/// The Event document as API.md shows it and as `crm.events.v1` carries it (key = event id;
/// types `crm.event.created`, `.updated`, `.completed`, `.cancelled`, `.reopened`, `.deleted`).
public struct EventSnapshot: Codable, Sendable {
    public static let eventTypes = ["created", "updated", "completed", "cancelled", "reopened", "deleted"].map { "crm.event.\($0)" }

    public var id: UUID
    /// `EV-000123`.
    public var number: String
    /// `phone-call`, `email`, `meeting`, `message`, `other`.
    public var channel: String
    /// `incoming`, `outgoing`, `internal`.
    public var direction: String
    /// `planned`, `completed`, `cancelled`.
    public var state: String
    public var subject: String
    public var content: String?
    public var counterpartyId: UUID?
    public var contactId: UUID?
    public var dealId: UUID?
    public var projectId: UUID?
    public var responsibleId: UUID?
    public var startsAt: Date?
    public var endsAt: Date?
    public var basis: Basis?
    /// The token subject that created it (an employee id or a client id).
    public var authorId: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var completedAt: Date?
    public var cancelledAt: Date?
    public var cancelReason: String?
    /// `api` or `telephony`.
    public var source: String
    public var call: CallDetails?
    /// A telephony event whose number matched no counterparty. Read as false when absent.
    public var unmatched: Bool
    public var deleted: Bool
    public var version: Int

    public init(
        id: UUID, number: String, channel: String, direction: String, state: String, subject: String, content: String?,
        counterpartyId: UUID?, contactId: UUID?, dealId: UUID?, projectId: UUID?, responsibleId: UUID?, startsAt: Date?,
        endsAt: Date?, basis: Basis?, authorId: String?, createdAt: Date, updatedAt: Date, completedAt: Date?,
        cancelledAt: Date?, cancelReason: String?, source: String, call: CallDetails?, unmatched: Bool, deleted: Bool,
        version: Int
    ) {
        self.id = id
        self.number = number
        self.channel = channel
        self.direction = direction
        self.state = state
        self.subject = subject
        self.content = content
        self.counterpartyId = counterpartyId
        self.contactId = contactId
        self.dealId = dealId
        self.projectId = projectId
        self.responsibleId = responsibleId
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.basis = basis
        self.authorId = authorId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.completedAt = completedAt
        self.cancelledAt = cancelledAt
        self.cancelReason = cancelReason
        self.source = source
        self.call = call
        self.unmatched = unmatched
        self.deleted = deleted
        self.version = version
    }

    private enum CodingKeys: String, CodingKey {
        case id, number, channel, direction, state, subject, content, counterpartyId, contactId, dealId, projectId
        case responsibleId, startsAt, endsAt, basis, authorId, createdAt, updatedAt, completedAt, cancelledAt
        case cancelReason, source, call, unmatched, deleted, version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decode(UUID.self, forKey: .id), number: try c.decode(String.self, forKey: .number),
            channel: try c.decode(String.self, forKey: .channel), direction: try c.decode(String.self, forKey: .direction),
            state: try c.decode(String.self, forKey: .state), subject: try c.decode(String.self, forKey: .subject),
            content: try c.decodeIfPresent(String.self, forKey: .content),
            counterpartyId: try c.decodeIfPresent(UUID.self, forKey: .counterpartyId),
            contactId: try c.decodeIfPresent(UUID.self, forKey: .contactId),
            dealId: try c.decodeIfPresent(UUID.self, forKey: .dealId),
            projectId: try c.decodeIfPresent(UUID.self, forKey: .projectId),
            responsibleId: try c.decodeIfPresent(UUID.self, forKey: .responsibleId),
            startsAt: try c.decodeTimestampIfPresent(forKey: .startsAt), endsAt: try c.decodeTimestampIfPresent(forKey: .endsAt),
            basis: try c.decodeIfPresent(Basis.self, forKey: .basis), authorId: try c.decodeIfPresent(String.self, forKey: .authorId),
            createdAt: try c.decodeTimestamp(forKey: .createdAt), updatedAt: try c.decodeTimestamp(forKey: .updatedAt),
            completedAt: try c.decodeTimestampIfPresent(forKey: .completedAt),
            cancelledAt: try c.decodeTimestampIfPresent(forKey: .cancelledAt),
            cancelReason: try c.decodeIfPresent(String.self, forKey: .cancelReason),
            source: try c.decodeIfPresent(String.self, forKey: .source) ?? "api",
            call: try c.decodeIfPresent(CallDetails.self, forKey: .call),
            unmatched: try c.decodeIfPresent(Bool.self, forKey: .unmatched) ?? false,
            deleted: try c.decodeIfPresent(Bool.self, forKey: .deleted) ?? false,
            version: try c.decode(Int.self, forKey: .version))
    }

    // Every member always present, null when unset.
    public func encode(to encoder: any Encoder) throws {
        func text(_ id: UUID?) -> String? { id?.lowercasedText }
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
        try container.encodeTimestamp(startsAt, forKey: .startsAt)
        try container.encodeTimestamp(endsAt, forKey: .endsAt)
        try container.encode(basis, forKey: .basis)
        try container.encode(authorId, forKey: .authorId)
        try container.encodeTimestamp(createdAt, forKey: .createdAt)
        try container.encodeTimestamp(updatedAt, forKey: .updatedAt)
        try container.encodeTimestamp(completedAt, forKey: .completedAt)
        try container.encodeTimestamp(cancelledAt, forKey: .cancelledAt)
        try container.encode(cancelReason, forKey: .cancelReason)
        try container.encode(source, forKey: .source)
        try container.encode(call, forKey: .call)
        try container.encode(unmatched, forKey: .unmatched)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(version, forKey: .version)
    }
}

import Foundation

/// Event counts of a report: the total, by state and by channel (every state and channel always
/// listed, zeros included); a project's also by responsible employee.
public struct ReportEventCounts: Codable, Sendable, Equatable {
    public struct Responsible: Codable, Sendable, Equatable {
        public var employeeId: UUID
        public var name: String?
        public var total: Int
        public var completed: Int

        private enum CodingKeys: String, CodingKey { case employeeId, name, total, completed }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(employeeId.lowercasedText, forKey: .employeeId)
            try container.encode(name, forKey: .name)
            try container.encode(total, forKey: .total)
            try container.encode(completed, forKey: .completed)
        }
    }

    public var total: Int
    /// `planned`, `completed`, `cancelled` → count.
    public var byState: [String: Int]
    /// `phone-call`, `email`, `meeting`, `message`, `other` → count.
    public var byChannel: [String: Int]
    /// Project reports only (absent from segment figures); most events first.
    public var byResponsible: [Responsible]?
}

/// Figures of one event attribute over a project's events (survey results).
public struct ReportAttributeFigures: Codable, Sendable, Equatable {
    /// The attribute's type.
    public var type: String
    /// How many events have a value.
    public var count: Int
    /// A number for integer attributes, a decimal string for decimal ones, else null.
    public var avg: JSONValue
    public var min: JSONValue
    public var max: JSONValue
    /// Value → count, for boolean, enum, integer and reference attributes; else null.
    public var distribution: [String: Int]?

    private enum CodingKeys: String, CodingKey { case type, count, avg, min, max, distribution }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        count = try container.decode(Int.self, forKey: .count)
        avg = try container.decodeIfPresent(JSONValue.self, forKey: .avg) ?? .null
        min = try container.decodeIfPresent(JSONValue.self, forKey: .min) ?? .null
        max = try container.decodeIfPresent(JSONValue.self, forKey: .max) ?? .null
        distribution = try container.decodeIfPresent([String: Int].self, forKey: .distribution)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(count, forKey: .count)
        try container.encode(avg, forKey: .avg)
        try container.encode(min, forKey: .min)
        try container.encode(max, forKey: .max)
        try container.encode(distribution, forKey: .distribution)
    }
}

/// `data` of `crm.report.project-stats` on `crm.reports.projects.v1` (key = project id): the
/// project report of `GET /v1/reports/projects/{projectId}` plus `deleted` and the 90-day
/// `timeline`. When the message would be too large, `attributes` is emptied and
/// `attributesOmitted` set; if still too large, `byResponsible` and `timeline` are emptied and
/// `breakdownsOmitted` set (the HTTP report keeps everything).
public struct ProjectReportSnapshot: Codable, Sendable, Equatable {
    public static let eventType = "crm.report.project-stats"

    public struct Day: Codable, Sendable, Equatable {
        /// `YYYY-MM-DD` (UTC).
        public var date: String
        public var completed: Int
    }

    public var projectId: UUID
    public var name: String?
    public var deleted: Bool
    public var events: ReportEventCounts
    /// completed ÷ total, 0…1, 0 when there are no events.
    public var completionRate: Double
    public var attributes: [String: ReportAttributeFigures]
    public var timeline: [Day]?
    /// RFC 3339 UTC with microseconds, as PostgreSQL prints it; null before the first event.
    public var updatedAt: String?
    public var attributesOmitted: Bool?
    public var breakdownsOmitted: Bool?

    private enum CodingKeys: String, CodingKey {
        case projectId, name, deleted, events, completionRate, attributes, timeline, updatedAt, attributesOmitted, breakdownsOmitted
    }

    /// Drops the per-attribute figures, for a message that would be too large.
    public mutating func omitAttributes() {
        attributes = [:]
        attributesOmitted = true
    }

    /// Drops the per-responsible and per-day breakdowns as well.
    public mutating func omitBreakdowns() {
        if events.byResponsible != nil { events.byResponsible = [] }
        timeline = []
        breakdownsOmitted = true
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(projectId.lowercasedText, forKey: .projectId)
        try container.encode(name, forKey: .name)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(events, forKey: .events)
        try container.encode(completionRate, forKey: .completionRate)
        try container.encode(attributes, forKey: .attributes)
        try container.encode(timeline, forKey: .timeline)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(attributesOmitted, forKey: .attributesOmitted)
        try container.encodeIfPresent(breakdownsOmitted, forKey: .breakdownsOmitted)
    }
}

/// `data` of `crm.report.segment-stats` on `crm.reports.segments.v1` (key =
/// `<kind>:<attributeKey>:<value>`, `null` for the not-set segment): the figures of one segment.
public struct SegmentReportSnapshot: Codable, Sendable, Equatable {
    public static let eventType = "crm.report.segment-stats"

    public struct Orders: Codable, Sendable, Equatable {
        /// Confirmed and completed orders.
        public var count: Int
        /// Currency → decimal string sum, one per currency, never mixed.
        public var totals: [String: String]
    }

    /// Always `counterparty`.
    public var kind: String
    public var attribute: String
    /// The segment's value: true/false for booleans, the string otherwise, null for "not set".
    public var value: JSONValue
    public var counterparties: Int
    public var events: ReportEventCounts
    /// RFC 3339 UTC with microseconds; null when the segment has no events.
    public var lastEventAt: String?
    public var customerOrders: Orders
    public var supplierOrders: Orders

    private enum CodingKeys: String, CodingKey {
        case kind, attribute, value, counterparties, events, lastEventAt, customerOrders, supplierOrders
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(String.self, forKey: .kind)
        attribute = try container.decode(String.self, forKey: .attribute)
        value = try container.decodeIfPresent(JSONValue.self, forKey: .value) ?? .null
        counterparties = try container.decode(Int.self, forKey: .counterparties)
        events = try container.decode(ReportEventCounts.self, forKey: .events)
        lastEventAt = try container.decodeIfPresent(String.self, forKey: .lastEventAt)
        customerOrders = try container.decode(Orders.self, forKey: .customerOrders)
        supplierOrders = try container.decode(Orders.self, forKey: .supplierOrders)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(attribute, forKey: .attribute)
        try container.encode(value, forKey: .value)
        try container.encode(counterparties, forKey: .counterparties)
        try container.encode(events, forKey: .events)
        try container.encode(lastEventAt, forKey: .lastEventAt)
        try container.encode(customerOrders, forKey: .customerOrders)
        try container.encode(supplierOrders, forKey: .supplierOrders)
    }
}

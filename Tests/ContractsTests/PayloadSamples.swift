@testable import Contracts
import Foundation

/// Representative values of every topic payload type, each with the schema it must satisfy:
/// every member set, optional members absent or null, and edge values (empty lists, deletions,
/// non-ASCII text, large versions).
struct PayloadSample: Sendable {
    var name: String
    /// A file of `docs/schemas/`.
    var schema: String
    var json: @Sendable () throws -> Data
    /// The sample written by `CRMJSONEncoder`, and Foundation's text of it read back by
    /// `CRMJSONDecoder` without Foundation (nil if that decoder handed it to Foundation) and
    /// written by Foundation again.
    var fastCoders: @Sendable () throws -> (encoded: [UInt8], decodedAgain: Data?)

    init<T: Codable & Sendable>(_ name: String, _ schema: String, _ value: T) {
        self.name = name
        self.schema = schema
        json = { try CRMJSON.makeEncoder().encode(value) }
        fastCoders = {
            let decoded = CRMJSONDecoder().decodeWithoutFoundation(T.self, from: Array(try CRMJSON.makeEncoder().encode(value)))
            return (try CRMJSONEncoder().encode(value), try decoded.map { try CRMJSON.makeEncoder().encode($0) })
        }
    }
}

enum Samples {
    static let a = UUID(uuidString: "6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11")!
    static let b = UUID(uuidString: "0B9A7C1E-2F4D-4E6A-8B3C-5D1E7F9A2C44")!  // upper case in, lower case out
    static let t1 = Date(timeIntervalSince1970: 1_796_109_302.123)
    static let t2 = Date(timeIntervalSince1970: 1_796_118_000)

    static let tab = [
        AttributeTabEntry(key: "vip", name: "VIP", type: .boolean, position: 1, value: .bool(true)),
        AttributeTabEntry(key: "score", name: "Score", type: .integer, position: 2, value: .number(7)),
        AttributeTabEntry(key: "region", name: "Регион", type: .enum, position: 3, value: .null),
    ]

    static func catalog<Fields: CatalogFields>(_ fields: Fields, deleted: Bool = false, tab: [AttributeTabEntry] = Samples.tab) -> CatalogSnapshot<Fields> {
        CatalogSnapshot(id: a, version: deleted ? Int(Int32.max) : 1, deleted: deleted, createdAt: t1, updatedAt: t2, attributes: tab, fields: fields)
    }

    static let call = CallDetails(
        callId: "pbx-1-88412", direction: "inbound", from: "+74951234567", to: "+74951110000", extension: nil, status: "missed",
        startedAt: t1, answeredAt: nil, endedAt: t2, durationSeconds: 0, recordingUrl: nil)

    static func event(telephony: Bool = false, deleted: Bool = false) -> EventSnapshot {
        EventSnapshot(
            id: a, number: "EV-000123", channel: "phone-call", direction: telephony ? "incoming" : "outgoing",
            state: telephony ? "cancelled" : "planned", subject: "Оценка качества ✓", content: telephony ? nil : "Ask about the delivery",
            counterpartyId: telephony ? nil : b, contactId: nil, dealId: nil, projectId: telephony ? nil : b, responsibleId: b,
            startsAt: t1, endsAt: t2, basis: telephony ? nil : Basis(kind: "event", id: b), authorId: telephony ? nil : "client-7",
            createdAt: t1, updatedAt: t2, completedAt: nil, cancelledAt: telephony ? t2 : nil, cancelReason: telephony ? "missed" : nil,
            source: telephony ? "telephony" : "api", call: telephony ? call : nil, unmatched: telephony, deleted: deleted, version: 42)
    }

    static func order(supplier: Bool = false) -> OrderSnapshot {
        OrderSnapshot(
            id: a, kind: supplier ? "supplier-order" : "customer-order", number: supplier ? "SO-000002" : "CO-1234567",
            state: supplier ? "draft" : "completed", counterpartyId: b, contactId: nil, dealId: supplier ? nil : b, projectId: nil,
            responsibleId: nil, date: "2026-12-01", currency: "RUB", comment: supplier ? nil : "Срочно", basis: supplier ? nil : Basis(kind: "customer-order", id: b),
            lines: [
                OrderLine(productId: b, description: "Paper A4", quantity: "2", price: "1500.00", discountPercent: "10", amount: "2700.00"),
                OrderLine(productId: nil, description: "", quantity: "0.001", price: "0", discountPercent: "100", amount: "0.00"),
            ],
            total: "2700.00", authorId: nil, createdAt: t1, updatedAt: t2, confirmedAt: supplier ? nil : t1,
            completedAt: supplier ? nil : t2, cancelledAt: nil, deleted: supplier, version: 3)
    }

    static func entry(removed: Bool) -> CalendarEntrySnapshot {
        CalendarEntrySnapshot(
            eventId: a, employeeId: b, number: "EV-000123", subject: "Call", channel: "phone-call", direction: "outgoing",
            state: removed ? "cancelled" : "planned", startsAt: removed ? nil : t1, endsAt: removed ? nil : t2,
            counterpartyId: removed ? nil : b, counterpartyName: removed ? nil : "ООО Ромашка", contactId: nil, removed: removed, version: 5)
    }

    static let reminder = ReminderDue(
        eventId: a.uuidString.lowercased(), number: "EV-000123", subject: "Call", startsAt: t2, endsAt: t2, dueAt: t1,
        channel: "meeting", direction: "internal", counterpartyId: nil, counterpartyName: nil, contactId: nil,
        employeeId: b.uuidString.lowercased(), employee: .init(id: b.uuidString.lowercased(), name: nil, timeZone: "UTC"))

    static let attributeSet = AttributeSet(kind: .customerOrder, version: 7, attributes: [
        AttributeDefinition(id: a, key: "priority", name: "Priority", type: .enum, options: ["low", "high"], referenceKind: nil,
                            required: true, position: 1, description: "How urgent"),
        AttributeDefinition(id: b, key: "manager", name: "Manager", type: .reference, options: [], referenceKind: .employee,
                            required: false, position: 2, description: nil),
    ])

    static let call1 = TelephonyCall(
        callId: "pbx-1", direction: .outbound, from: "101", to: "+7 (495) 123-45-67", extension: "101", startedAt: t1,
        answeredAt: t1, endedAt: t2, status: .answered, recordingUrl: "https://pbx/rec/1")
    static let call2 = TelephonyCall(
        callId: "pbx-2", direction: .inbound, from: "+74951234567", to: "+74951110000", extension: nil, startedAt: t1,
        answeredAt: nil, endedAt: t1, status: .busy, recordingUrl: nil)

    /// The report payloads come from SQL documents; these are shapes crm-reporting produces.
    static let projectReportJSON = """
        {"projectId":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","name":null,"deleted":true,
         "events":{"total":0,"byState":{"planned":0,"completed":0,"cancelled":0},
           "byChannel":{"phone-call":0,"email":0,"meeting":0,"message":0,"other":0},"byResponsible":[
             {"employeeId":"0b9a7c1e-2f4d-4e6a-8b3c-5d1e7f9a2c44","name":null,"total":0,"completed":0}]},
         "completionRate":0,"attributes":{
           "score":{"type":"integer","count":2,"avg":7.5,"min":5,"max":10,"distribution":{"5":1,"10":1}},
           "amount":{"type":"decimal","count":1,"avg":"12.5","min":"12.5","max":"12.5","distribution":null},
           "note":{"type":"string","count":1,"avg":null,"min":null,"max":null,"distribution":null}},
         "timeline":[{"date":"2026-12-01","completed":0}],"updatedAt":null}
        """
    static let segmentReportJSON = """
        {"kind":"counterparty","attribute":"vip","value":null,"counterparties":0,
         "events":{"total":0,"byState":{"planned":0,"completed":0,"cancelled":0},
           "byChannel":{"phone-call":0,"email":0,"meeting":0,"message":0,"other":0}},
         "lastEventAt":null,"customerOrders":{"count":0,"totals":{}},"supplierOrders":{"count":2,"totals":{"USD":"10.50","RUB":"-1.00"}}}
        """

    static func all() throws -> [PayloadSample] {
        let decoder = CRMJSON.makeDecoder()
        let project = try decoder.decode(ProjectReportSnapshot.self, from: Data(projectReportJSON.utf8))
        var withoutAttributes = project
        withoutAttributes.omitAttributes()
        var minimal = withoutAttributes
        minimal.omitBreakdowns()
        var segment = try decoder.decode(SegmentReportSnapshot.self, from: Data(segmentReportJSON.utf8))
        var booleanSegment = segment
        booleanSegment.value = .bool(false)
        booleanSegment.lastEventAt = "2026-12-01T07:00:00.123456Z"
        segment.attribute = "region"
        return [
            PayloadSample("counterparty, all set", "counterparty.json", catalog(CounterpartyFields(
                name: "Acme", kind: "person", taxId: "7701", phones: ["+74951234567"], emails: ["a@b.example"], address: "Moscow", comment: "—"))),
            PayloadSample("counterparty, deleted, optionals null", "counterparty.json", catalog(CounterpartyFields(name: "Acme"), deleted: true, tab: [])),
            PayloadSample("contact", "contact.json", catalog(ContactFields(counterpartyId: b, name: "Ivan", role: "Buyer", phones: [], emails: ["i@b.example"]))),
            PayloadSample("contact, optionals null", "contact.json", catalog(ContactFields(counterpartyId: b, name: "Ivan"), deleted: true)),
            PayloadSample("employee", "employee.json", catalog(EmployeeFields(name: "Olga", email: "o@crm.example", phoneExtension: "101", timeZone: "Europe/Moscow", active: false))),
            PayloadSample("employee, defaults", "employee.json", catalog(EmployeeFields(name: "Olga"))),
            PayloadSample("project", "project.json", catalog(ProjectFields(name: "Survey", description: "Q4", startsOn: "2026-12-01", endsOn: "2027-02-28", state: "closed"))),
            PayloadSample("project, defaults", "project.json", catalog(ProjectFields(name: "Survey"))),
            PayloadSample("deal", "deal.json", catalog(DealFields(name: "Supply", counterpartyId: b, stage: "won", amount: "-3.5", currency: "EUR"))),
            PayloadSample("deal, optionals null", "deal.json", catalog(DealFields(name: "Supply", counterpartyId: b))),
            PayloadSample("product", "product.json", catalog(ProductFields(name: "Paper", sku: "P-1", unit: "pack", price: "350.00", currency: "RUB"))),
            PayloadSample("product, optionals null", "product.json", catalog(ProductFields(name: "Paper"))),
            PayloadSample("attribute set", "attribute-set.json", attributeSet),
            PayloadSample("attribute set, empty", "attribute-set.json", AttributeSet(kind: .counterparty, version: 0, attributes: [])),
            PayloadSample("attribute values", "attribute-values.json", AttributeValues(
                kind: .event, objectId: b, version: 2, values: ["vip": .bool(true), "score": .number(7), "rate": .string("1.25"), "on": .string("2026-12-01")])),
            PayloadSample("attribute values, none", "attribute-values.json", AttributeValues(kind: .supplierOrder, objectId: a, version: 9, values: [:])),
            PayloadSample("event from the API", "event.json", event()),
            PayloadSample("event from a missed call", "event.json", event(telephony: true)),
            PayloadSample("event, deleted", "event.json", event(deleted: true)),
            PayloadSample("customer order", "order.json", order()),
            PayloadSample("supplier order, deleted draft", "order.json", order(supplier: true)),
            PayloadSample("calendar entry", "calendar-entry.json", entry(removed: false)),
            PayloadSample("calendar entry, removed", "calendar-entry.json", entry(removed: true)),
            PayloadSample("reminder", "calendar-reminder.json", reminder),
            PayloadSample("project figures", "project-stats.json", project),
            PayloadSample("project figures without attributes", "project-stats.json", withoutAttributes),
            PayloadSample("project figures without breakdowns", "project-stats.json", minimal),
            PayloadSample("segment figures, not set", "segment-stats.json", segment),
            PayloadSample("segment figures, false", "segment-stats.json", booleanSegment),
            PayloadSample("telephony call", "telephony-call.json", call1),
            PayloadSample("telephony call, optionals absent", "telephony-call.json", call2),
        ]
    }
}

import Contracts
import Foundation
import Kafka
import ServiceKit
import Testing
import TestSupport

/// "Reports for VIP clients specifically": segments by a counterparty attribute, following value
/// changes, order cancellations and event deletions.
@Suite("Segment reports: VIP", .serialized)
struct SegmentTests {
    /// A, D VIP; B not VIP; C unset — with events and orders.
    struct World: Sendable {
        let a = newId(), b = newId(), c = newId(), d = newId()
        let aCall: EventSnapshot
        let aMail: EventSnapshot
        let bMeeting: EventSnapshot
        let cCall: EventSnapshot
        let aOrder: OrderSnapshot
        let aDraft: OrderSnapshot
        let aSupply: OrderSnapshot
        let bOrder: OrderSnapshot
        let dCancelled: OrderSnapshot
        let dOrder: OrderSnapshot

        init() {
            let base = Date(timeIntervalSince1970: 1_796_000_000)
            aCall = EventSnapshot(state: "completed", channel: "phone-call", counterpartyId: a, startsAt: base, completedAt: base)
            aMail = EventSnapshot(state: "planned", channel: "email", counterpartyId: a, startsAt: base.addingTimeInterval(3600))
            bMeeting = EventSnapshot(state: "planned", channel: "meeting", counterpartyId: b, startsAt: base.addingTimeInterval(60))
            cCall = EventSnapshot(state: "completed", channel: "phone-call", counterpartyId: c, startsAt: base, completedAt: base)
            aOrder = OrderSnapshot(state: "confirmed", counterpartyId: a, currency: "RUB", total: "1000.00")
            aDraft = OrderSnapshot(state: "draft", counterpartyId: a, currency: "RUB", total: "50.00")
            aSupply = OrderSnapshot(customer: false, state: "completed", counterpartyId: a, currency: "USD", total: "10.50")
            bOrder = OrderSnapshot(state: "completed", counterpartyId: b, currency: "RUB", total: "200.00")
            dCancelled = OrderSnapshot(state: "cancelled", counterpartyId: d, currency: "RUB", total: "999.00")
            dOrder = OrderSnapshot(state: "confirmed", counterpartyId: d, currency: "EUR", total: "5.25")
        }

        var events: [EventSnapshot] { [aCall, aMail, bMeeting, cCall] }
        var orders: [OrderSnapshot] { [aOrder, aDraft, aSupply, bOrder, dCancelled, dOrder] }

        func seed(_ harness: Harness) async throws {
            try await harness.publishAttributeSet(kind: "counterparty", version: 1, [
                AttributeSpec(key: "vip", type: "boolean"), AttributeSpec(key: "region", type: "string"),
            ])
            for (id, name) in [(a, "Alpha"), (b, "Bravo"), (c, "Charlie"), (d, "Delta")] {
                try await harness.publishCatalog(Topic.counterparties, "counterparty", id: id, name: name)
            }
            try await harness.publishValues(kind: "counterparty", id: a, version: 1, ["vip": .bool(true), "region": .string("North")])
            try await harness.publishValues(kind: "counterparty", id: b, version: 1, ["vip": .bool(false)])
            try await harness.publishValues(kind: "counterparty", id: d, version: 1, ["vip": .bool(true)])
            for event in events { try await harness.publishEvent(event) }
            for order in orders { try await harness.publishOrder(order) }
            try await harness.waitAttributeSet(kind: "counterparty", version: 1)
            for id in [a, b, c, d] { try await harness.waitFact("counterparty_facts", id, version: 1) }
            for id in [a, b, d] { try await harness.waitValues(kind: "counterparty", id, version: 1) }
            for event in events { try await harness.waitFact("event_facts", event.id, version: 1) }
            for order in orders { try await harness.waitFact("order_facts", order.id, version: 1) }
        }
    }

    @Test("exact segments; un-marking moves the figures, a cancelled order and a deleted event drop out")
    func vipSegments() async throws {
        try await Harness.run { harness, _ in
            let world = World()
            try await world.seed(harness)

            let report = try await harness.segments("vip")
            #expect(report.kind == "counterparty")
            #expect(report.attribute == "vip")
            #expect(report.segments.map(\.value) == [.null, .bool(false), .bool(true)])
            let vip = report.segment(.bool(true))
            #expect(vip?.counterparties == 2)
            #expect(vip?.events.total == 2)
            #expect(vip?.events.byState == ["planned": 1, "completed": 1, "cancelled": 0])
            #expect(vip?.events.byChannel == ["phone-call": 1, "email": 1, "meeting": 0, "message": 0, "other": 0])
            #expect(sameInstant(vip?.lastEventAt, rfc3339(world.aMail.startsAt!)))
            #expect(vip?.customerOrders == Orders(count: 2, totals: ["RUB": "1000.00", "EUR": "5.25"]))
            #expect(vip?.supplierOrders == Orders(count: 1, totals: ["USD": "10.50"]))
            let regular = report.segment(.bool(false))
            #expect(regular?.counterparties == 1)
            #expect(regular?.events.total == 1)
            #expect(regular?.events.byChannel["meeting"] == 1)
            #expect(regular?.customerOrders == Orders(count: 1, totals: ["RUB": "200.00"]))
            #expect(regular?.supplierOrders == Orders(count: 0, totals: [:]))
            let unset = report.segment(.null)
            #expect(unset?.counterparties == 1)
            #expect(unset?.events.total == 1)
            #expect(unset?.customerOrders.count == 0)

            // Un-mark A: all of its figures move to the non-VIP segment.
            try await harness.publishValues(kind: "counterparty", id: world.a, version: 2, ["vip": .bool(false), "region": .string("North")])
            try await harness.waitValues(kind: "counterparty", world.a, version: 2)
            let moved = try await harness.segments("vip")
            #expect(moved.segment(.bool(true))?.counterparties == 1)
            #expect(moved.segment(.bool(true))?.events.total == 0)
            #expect(moved.segment(.bool(true))?.lastEventAt == nil)
            #expect(moved.segment(.bool(true))?.customerOrders == Orders(count: 1, totals: ["EUR": "5.25"]))
            #expect(moved.segment(.bool(true))?.supplierOrders == Orders(count: 0, totals: [:]))
            #expect(moved.segment(.bool(false))?.counterparties == 2)
            #expect(moved.segment(.bool(false))?.events.total == 3)
            #expect(moved.segment(.bool(false))?.customerOrders == Orders(count: 2, totals: ["RUB": "1200.00"]))
            #expect(moved.segment(.bool(false))?.supplierOrders == Orders(count: 1, totals: ["USD": "10.50"]))

            // Cancel A's confirmed order: the total drops.
            var cancelled = world.aOrder
            cancelled.version = 2
            cancelled.state = "cancelled"
            try await harness.publishOrder(cancelled)
            try await harness.waitFact("order_facts", cancelled.id, version: 2)
            let afterCancel = try await harness.segments("vip")
            #expect(afterCancel.segment(.bool(false))?.customerOrders == Orders(count: 1, totals: ["RUB": "200.00"]))

            // Delete A's completed call: the counts drop.
            var deleted = world.aCall
            deleted.version = 2
            deleted.deleted = true
            try await harness.publishEvent(deleted)
            try await harness.waitFact("event_facts", deleted.id, version: 2)
            let afterDelete = try await harness.segments("vip")
            #expect(afterDelete.segment(.bool(false))?.events.total == 2)
            #expect(afterDelete.segment(.bool(false))?.events.byState == ["planned": 2, "completed": 0, "cancelled": 0])

            // Members of the non-VIP segment, one per page.
            let first = try await harness.get("/v1/reports/segments/counterparty/vip/false/members?limit=1", as: MemberPage.self)
            #expect(first.items.count == 1)
            let cursor = try #require(first.nextCursor)
            let second = try await harness.get("/v1/reports/segments/counterparty/vip/false/members?limit=1&cursor=\(cursor)", as: MemberPage.self)
            #expect(second.items.count == 1)
            #expect(second.nextCursor == nil)
            let members = (first.items + second.items).sorted { $0.name < $1.name }
            #expect(members.map(\.name) == ["Alpha", "Bravo"])
            #expect(members.first?.events.total == 1)
            #expect(members.first?.supplierOrders == Orders(count: 1, totals: ["USD": "10.50"]))
            #expect(members.last?.customerOrders == Orders(count: 1, totals: ["RUB": "200.00"]))
            let unsetMembers = try await harness.get("/v1/reports/segments/counterparty/vip/null/members", as: MemberPage.self)
            #expect(unsetMembers.items.map(\.counterpartyId) == [world.c])

            // Deleting a counterparty takes it out of its segment.
            try await harness.publishCatalog(Topic.counterparties, "counterparty", id: world.c, name: "Charlie", version: 2, deleted: true)
            try await harness.waitFact("counterparty_facts", world.c, version: 2)
            let afterCounterparty = try await harness.segments("vip")
            #expect(afterCounterparty.segment(.null)?.counterparties == 0)
            #expect(afterCounterparty.segment(.null)?.events.total == 0)

            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences)")
        }
    }

    @Test("a newly defined attribute gets its segments without a restart; 404 and 422 cases")
    func newAttributeAndErrors() async throws {
        try await Harness.run { harness, _ in
            let world = World()
            try await world.seed(harness)

            let unknown = try await harness.request(.get, "/v1/reports/segments/counterparty/tier", role: .viewer)
            #expect(unknown.status == 404)
            #expect(unknown.headers[.contentType] == "application/problem+json")
            let wrongType = try await harness.request(.get, "/v1/reports/segments/counterparty/region", role: .viewer)
            #expect(wrongType.status == 422)
            #expect(wrongType.text.contains("attributeKey"))
            let wrongKind = try await harness.request(.get, "/v1/reports/segments/project/vip", role: .viewer)
            #expect(wrongKind.status == 404)
            let unknownProject = try await harness.request(.get, "/v1/reports/projects/\(newId())", role: .viewer)
            #expect(unknownProject.status == 404)
            let badLimit = try await harness.request(.get, "/v1/reports/segments/counterparty/vip/true/members?limit=0", role: .viewer)
            #expect(badLimit.status == 422)
            let badCursor = try await harness.request(.get, "/v1/reports/segments/counterparty/vip/true/members?cursor=nonsense", role: .viewer)
            #expect(badCursor.status == 400)

            // B and C get a tier; the attribute is defined afterwards.
            try await harness.publishValues(kind: "counterparty", id: world.b, version: 2, ["vip": .bool(false), "tier": .string("gold")])
            try await harness.publishValues(kind: "counterparty", id: world.c, version: 1, ["tier": .string("silver")])
            try await harness.waitValues(kind: "counterparty", world.b, version: 2)
            try await harness.waitValues(kind: "counterparty", world.c, version: 1)
            try await harness.publishAttributeSet(kind: "counterparty", version: 2, [
                AttributeSpec(key: "vip", type: "boolean"), AttributeSpec(key: "region", type: "string"),
                AttributeSpec(key: "tier", type: "enum", options: ["gold", "silver", "bronze"]),
            ])
            try await harness.waitAttributeSet(kind: "counterparty", version: 2)
            let tier = try await harness.segments("tier")
            #expect(tier.segments.map(\.value) == [.null, .string("bronze"), .string("gold"), .string("silver")])
            #expect(tier.segment(.string("gold"))?.counterparties == 1)
            #expect(tier.segment(.string("gold"))?.events.total == 1)
            #expect(tier.segment(.string("gold"))?.customerOrders == Orders(count: 1, totals: ["RUB": "200.00"]))
            #expect(tier.segment(.string("silver"))?.counterparties == 1)
            #expect(tier.segment(.string("silver"))?.events.byState["completed"] == 1)
            #expect(tier.segment(.string("bronze"))?.counterparties == 0)
            #expect(tier.segment(.null)?.counterparties == 2)
            #expect(tier.segment(.null)?.customerOrders == Orders(count: 2, totals: ["RUB": "1000.00", "EUR": "5.25"]))

            // Retired: gone again.
            try await harness.publishAttributeSet(kind: "counterparty", version: 3, [AttributeSpec(key: "vip", type: "boolean")])
            try await harness.waitAttributeSet(kind: "counterparty", version: 3)
            let retired = try await harness.request(.get, "/v1/reports/segments/counterparty/tier", role: .viewer)
            #expect(retired.status == 404)

            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences)")
        }
    }
}

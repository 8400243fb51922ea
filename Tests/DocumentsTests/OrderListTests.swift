import Foundation
import Testing
import TestSupport

@Suite("Documents: order lists")
struct OrderListTests {
    @Test("Every filter: counterpartyId, dealId, projectId, state, from/to (inclusive dates), q (number, comment)")
    func filters() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let a = try await createOrder(h, "customer-orders", orderJSON(world, [
                "date": q("2026-11-30"), "dealId": q(world.deal), "comment": q("Urgent: 50% prepaid"),
            ]))
            let b = try await createOrder(h, "customer-orders", orderJSON(world, ["date": q("2026-12-01"), "projectId": q(world.project)]))
            let c = try await createOrder(h, "customer-orders", orderJSON(world, [
                "date": q("2026-12-02"), "counterpartyId": q(world.otherCounterparty), "dealId": q(world.otherDeal),
            ]))
            let d = try await createOrder(h, "customer-orders", orderJSON(world, ["date": q("2026-12-01")]))
            _ = try requireOrder(try await action(h, "customer-orders", d.id, "confirm"))
            let supplier = try await createOrder(h, "supplier-orders", orderJSON(world, ["date": q("2026-12-01")]))

            // Newest first: by date, then by number.
            #expect(try await listOrders(h, "customer-orders", "").ids == [c.id, d.id, b.id, a.id])
            #expect(try await listOrders(h, "supplier-orders", "").ids == [supplier.id])
            #expect(try await listOrders(h, "customer-orders", "counterpartyId=\(world.counterparty)").ids == [d.id, b.id, a.id])
            #expect(try await listOrders(h, "customer-orders", "dealId=\(world.deal)").ids == [a.id])
            #expect(try await listOrders(h, "customer-orders", "dealId=\(world.otherDeal)").ids == [c.id])
            #expect(try await listOrders(h, "customer-orders", "projectId=\(world.project)").ids == [b.id])
            #expect(try await listOrders(h, "customer-orders", "state=confirmed").ids == [d.id])
            #expect(try await listOrders(h, "customer-orders", "state=draft").ids == [c.id, b.id, a.id])
            #expect(try await listOrders(h, "customer-orders", "from=2026-12-01").ids == [c.id, d.id, b.id])
            #expect(try await listOrders(h, "customer-orders", "to=2026-12-01").ids == [d.id, b.id, a.id])
            #expect(try await listOrders(h, "customer-orders", "from=2026-12-01&to=2026-12-01").ids == [d.id, b.id])
            #expect(try await listOrders(h, "customer-orders", "q=\(queryEscape("50%"))").ids == [a.id])
            #expect(try await listOrders(h, "customer-orders", "q=urgent").ids == [a.id])
            #expect(try await listOrders(h, "customer-orders", "q=\(b.number!)").ids == [b.id])
            #expect(try await listOrders(h, "customer-orders", "q=co-00000").ids.count == 4)
            #expect(try await listOrders(h, "customer-orders", "counterpartyId=\(world.counterparty)&state=draft&from=2026-12-01").ids == [b.id])

            expectProblem(
                try await h.request(.get, "/v1/customer-orders?counterpartyId=x&state=open&from=yesterday&to=2026-13-01&includeDeleted=maybe"),
                status: 422, fields: ["counterpartyId", "state", "from", "to", "includeDeleted"])
            expectProblem(try await h.request(.get, "/v1/customer-orders?limit=0"), status: 422, fields: ["limit"])
            expectProblem(try await h.request(.get, "/v1/customer-orders?limit=501"), status: 422, fields: ["limit"])
        }
    }

    @Test("Cursor pagination walks every order once, newest first; a tampered cursor is 400")
    func pagination() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            var created: [String] = []
            for day in [3, 1, 2, 2, 1, 3, 2] {
                created.append(try await createOrder(h, "supplier-orders", orderJSON(world, ["date": q("2026-12-0\(day)")])).id)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await listOrders(h, "supplier-orders", "limit=3" + (cursor.map { "&cursor=\(queryEscape($0))" } ?? ""))
                #expect(page.items.count <= 3)
                seen += page.ids
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            let all = try await listOrders(h, "supplier-orders", "limit=500")
            #expect(seen == all.ids)
            #expect(Set(seen) == Set(created))
            #expect(all.items.compactMap(\.date) == all.items.compactMap(\.date).sorted(by: >))

            expectProblem(try await h.request(.get, "/v1/supplier-orders?cursor=not-a-cursor"), status: 400, fields: ["cursor"])
            // Valid base64url JSON, but not a position this list hands out.
            let forged = Data(#"{"date":"2026-99-99","seq":1}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            expectProblem(try await h.request(.get, "/v1/supplier-orders?cursor=\(forged)"), status: 400, fields: ["cursor"])
            let wrongShape = Data(#"{"sortAt":"x"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            expectProblem(try await h.request(.get, "/v1/supplier-orders?cursor=\(wrongShape)"), status: 400, fields: ["cursor"])
        }
    }
}

import Foundation
import HTTPTypes
import Testing
import TestSupport

@Suite("Documents: orders created, read, changed, listed and deleted")
struct OrderCrudTests {
    @Test("A customer order round-trips: create (201, ETag, draft, CO number), read, PATCH with If-Match, delete")
    func customerOrderLifecycle() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let created = try await h.request(.post, "/v1/customer-orders", role: .manager, json: orderJSON(world, [
                "contactId": q(world.contact), "dealId": q(world.deal), "projectId": q(world.project),
                "responsibleId": q(world.employee), "comment": q("First order"),
            ]))
            let order = try requireOrder(created, status: 201)
            #expect(created.headers[.eTag] == "\"1\"")
            #expect(Set(orderMembers).isSubset(of: order.members), "members: \(order.members.sorted())")
            #expect(order.kind == "customer-order")
            #expect(order.number == "CO-000001")
            #expect(order.state == "draft")
            #expect(order.version == 1)
            #expect(order.currency == "RUB")
            #expect(order.date == "2026-12-01")
            #expect(order.counterpartyId == world.counterparty)
            #expect(order.contactId == world.contact)
            #expect(order.dealId == world.deal)
            #expect(order.projectId == world.project)
            #expect(order.responsibleId == world.employee)
            #expect(order.comment == "First order")
            #expect(order.authorId == Harness.defaultSubject(for: .manager))
            #expect(order.deleted == false)
            #expect(order.lines == [LineView(object: [
                "description": "Widget", "quantity": "2", "price": "1500.00", "discountPercent": "10", "amount": "2700.00",
            ])])
            #expect(order.total == "2700.00")

            let read = try await h.request(.get, "/v1/customer-orders/\(order.id)", role: .viewer)
            #expect(try requireOrder(read).text == order.text)
            #expect(read.headers[.eTag] == "\"1\"")

            let patched = try requireOrder(try await h.request(
                .patch, "/v1/customer-orders/\(order.id)", role: .manager, json: #"{"comment":"Changed","currency":"EUR"}"#,
                headers: ["If-Match": "\"1\""]))
            #expect(patched.version == 2)
            #expect(patched.comment == "Changed")
            #expect(patched.currency == "EUR")
            #expect(patched.lines == order.lines)
            #expect(patched.number == order.number)

            let listed = try await listOrders(h, "customer-orders", "")
            #expect(listed.ids == [order.id])
            #expect(listed.hasNextCursorMember && listed.nextCursor == nil)

            let deleted = try requireOrder(try await h.request(.delete, "/v1/customer-orders/\(order.id)", role: .manager))
            #expect(deleted.deleted == true)
            #expect(deleted.version == 3)
            #expect(try await listOrders(h, "customer-orders", "").ids.isEmpty)
            #expect(try await listOrders(h, "customer-orders", "includeDeleted=true").ids == [order.id])
            #expect(try await getOrder(h, "customer-orders", order.id).deleted == true)
            // Deleting again changes nothing; a deleted order cannot be edited or confirmed.
            #expect(try requireOrder(try await h.request(.delete, "/v1/customer-orders/\(order.id)")).version == 3)
            expectProblem(try await h.request(.patch, "/v1/customer-orders/\(order.id)", json: #"{"comment":"x"}"#), status: 409)
            expectProblem(try await action(h, "customer-orders", order.id, "confirm"), status: 409)
        }
    }

    @Test("Supplier orders work alike; numbers are per kind (CO-000001, CO-000002, SO-000001); unknown ids and the other kind's ids are 404")
    func supplierOrdersAndNumbering() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let first = try await createOrder(h, "customer-orders", orderJSON(world))
            let supplier = try await createOrder(h, "supplier-orders", orderJSON(world, ["counterpartyId": q(world.otherCounterparty)]))
            let second = try await createOrder(h, "customer-orders", orderJSON(world))
            #expect([first.number, second.number] == ["CO-000001", "CO-000002"])
            #expect(supplier.number == "SO-000001")
            #expect(supplier.kind == "supplier-order")
            #expect(supplier.counterpartyId == world.otherCounterparty)

            #expect(try await getOrder(h, "supplier-orders", supplier.id).number == "SO-000001")
            expectProblem(try await h.request(.get, "/v1/customer-orders/\(supplier.id)"), status: 404)
            expectProblem(try await h.request(.get, "/v1/supplier-orders/\(first.id)"), status: 404)
            expectProblem(try await h.request(.get, "/v1/supplier-orders/\(newId())"), status: 404)
            expectProblem(try await h.request(.get, "/v1/supplier-orders/not-a-uuid"), status: 404)
            expectProblem(try await h.request(.patch, "/v1/supplier-orders/\(newId())", json: "{}"), status: 404)

            let patched = try requireOrder(try await h.request(
                .patch, "/v1/supplier-orders/\(supplier.id)",
                json: #"{"lines":[{"description":"Bolts","quantity":"100","price":"0.35"}]}"#))
            #expect(patched.lines.map(\.amount) == ["35.00"])
            #expect(patched.lines.first?.discountPercent == "0")
            #expect(patched.total == "35.00")
            #expect(try await listOrders(h, "supplier-orders", "").ids == [supplier.id])
            #expect(try await listOrders(h, "customer-orders", "").ids == [second.id, first.id])
        }
    }

    @Test("Idempotency-Key: a repeated create returns the first response and creates nothing")
    func idempotentCreate() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let body = orderJSON(world)
            let key = ["Idempotency-Key": "order-\(newId())"]
            let first = try requireOrder(try await h.request(.post, "/v1/customer-orders", json: body, headers: key), status: 201)
            let again = try requireOrder(try await h.request(.post, "/v1/customer-orders", json: body, headers: key), status: 201)
            #expect(again.id == first.id)
            #expect(again.number == first.number)
            #expect(try await listOrders(h, "customer-orders", "").ids == [first.id])
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, ["comment": q("other")]), headers: key),
                status: 422, fields: ["Idempotency-Key"])
        }
    }

    @Test("A line's description and price default to the product's; a product without a price needs one")
    func productDefaults() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let order = try await createOrder(h, "customer-orders", orderJSON(world, lines: [
                #"{"productId":\#(q(world.product)),"quantity":"3"}"#,
                #"{"productId":\#(q(world.product)),"description":"Widget, blue","quantity":"1","price":"1400"}"#,
                #"{"productId":\#(q(world.unpricedProduct)),"quantity":"2","price":"80.50"}"#,
            ]))
            #expect(order.lines.map(\.description) == ["Widget", "Widget, blue", "Consulting hour"])
            #expect(order.lines.map(\.price) == ["1500.00", "1400", "80.50"])
            #expect(order.lines.map(\.productId) == [world.product, world.product, world.unpricedProduct])
            #expect(order.amounts == ["4500.00", "1400.00", "161.00"])
            #expect(order.total == "6061.00")

            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, lines: [
                    #"{"productId":\#(q(world.unpricedProduct)),"quantity":"1"}"#,
                    #"{"productId":\#(q(newId())),"quantity":"1"}"#,
                ])),
                status: 422, fields: ["lines[0].price", "lines[1].productId"])
        }
    }
}

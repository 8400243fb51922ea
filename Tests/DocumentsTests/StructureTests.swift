import Foundation
import Testing
import TestSupport

@Suite("Documents: the document structure")
struct StructureTests {
    @Test("event → follow-up event → customer order → two supplier orders: the same tree from every node, and per counterparty and deal")
    func chain() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let first = try await h.seedEvent(SeedEvent(
                number: "EV-000001", subject: "First call", startsAt: "2026-11-20T10:00:00.000Z", counterpartyId: world.counterparty,
                dealId: world.deal))
            let followUp = try await h.seedEvent(SeedEvent(
                number: "EV-000002", subject: "Follow-up", startsAt: nil, createdAt: "2026-11-25T08:30:00.000Z",
                counterpartyId: world.counterparty, dealId: world.deal, basisId: first))
            let customer = try await createOrder(h, "customer-orders", jsonText([
                ("basis", basisJSON("event", followUp)), ("date", q("2026-12-01")),
                ("lines", "[" + lineJSON(description: "Widget", quantity: q("2"), price: q("1500.00"), discount: q("10")) + "]"),
            ]))
            let supplierA = try await createOrder(h, "supplier-orders", jsonText([
                ("basis", basisJSON("customer-order", customer.id)), ("counterpartyId", q(world.otherCounterparty)), ("contactId", "null"),
                ("date", q("2026-12-02")),
            ]))
            let supplierB = try await createOrder(h, "supplier-orders", jsonText([
                ("basis", basisJSON("customer-order", customer.id)), ("counterpartyId", q(world.otherCounterparty)), ("contactId", "null"),
                ("date", q("2026-12-02")),
            ]))
            // Two other trees: a lone event of the other counterparty, a lone order of the first.
            let lone = try await h.seedEvent(SeedEvent(
                number: "EV-000003", subject: "Other", counterpartyId: world.otherCounterparty, dealId: world.otherDeal))
            let loneOrder = try await createOrder(h, "customer-orders", orderJSON(world, ["date": q("2026-12-05")]))

            let expectedEdges = [
                "\(first)>\(followUp)", "\(followUp)>\(customer.id)", "\(customer.id)>\(supplierA.id)", "\(customer.id)>\(supplierB.id)",
            ].sorted()
            for document in [
                "event:\(first)", "event:\(followUp)", "customer-order:\(customer.id)", "supplier-order:\(supplierA.id)",
                "supplier-order:\(supplierB.id)",
            ] {
                let tree = try await structure(h, "document=\(document)")
                #expect(tree.roots == [first], "from \(document)")
                #expect(tree.edges == expectedEdges, "from \(document)")
                #expect(tree.nodes.count == 5)
                #expect(tree.truncated == false)
            }
            let tree = try await structure(h, "document=event:\(first)")
            let root = try #require(tree.node(first))
            #expect(root.kind == "event")
            #expect(root.number == "EV-000001")
            #expect(root.title == "First call")
            #expect(root.state == "planned")
            #expect(sameInstant(root.date, "2026-11-20T10:00:00Z"))
            #expect(root.counterpartyId == world.counterparty)
            #expect(root.dealId == world.deal)
            for member in ["kind", "id", "number", "date", "state", "title", "counterpartyId", "dealId", "children"] {
                #expect(root.members.contains(member), "node lacks \(member)")
            }
            #expect(sameInstant(tree.node(followUp)?.date, "2026-11-25T08:30:00Z"))
            let order = try #require(tree.node(customer.id))
            #expect(order.kind == "customer-order")
            #expect(order.number == "CO-000001")
            #expect(order.state == "draft")
            #expect(order.title == "CO-000001, 2700.00 RUB")
            #expect(sameInstant(order.date, "2026-12-01T00:00:00Z"))
            #expect(order.dealId == world.deal)
            #expect(order.childIds == [supplierA.id, supplierB.id])
            #expect(tree.node(supplierA.id)?.kind == "supplier-order")
            #expect(tree.node(supplierA.id)?.number == "SO-000001")

            #expect(try await structure(h, "counterpartyId=\(world.counterparty)").roots == [first, loneOrder.id])
            #expect(try await structure(h, "counterpartyId=\(world.otherCounterparty)").roots.sorted() == [first, lone].sorted())
            #expect(try await structure(h, "dealId=\(world.deal)").roots == [first])
            let otherDeal = try await structure(h, "dealId=\(world.otherDeal)")
            #expect(otherDeal.roots == [lone])
            #expect(otherDeal.nodes.count == 1)
            #expect(try await structure(h, "counterpartyId=\(newId())").roots.isEmpty)

            expectProblem(try await h.request(.get, "/v1/structure?document=event:\(newId())"), status: 404)
            expectProblem(try await h.request(.get, "/v1/structure?document=invoice:\(first)"), status: 422, fields: ["document"])
            expectProblem(try await h.request(.get, "/v1/structure"), status: 422)
            expectProblem(try await h.request(.get, "/v1/structure?dealId=x"), status: 422, fields: ["dealId"])
        }
    }
}

@Suite("Documents: the structure's bounds")
struct StructureBoundsTests {
    @Test("A chain deeper than the depth bound is cut and says truncated; a deleted document stays in its tree, marked")
    func deepChainAndDeleted() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            var ids = [try await createOrder(h, "customer-orders", orderJSON(world)).id]
            for _ in 0..<52 {
                let next = try await createOrder(h, "supplier-orders", jsonText([("basis", basisJSON(
                    ids.count == 1 ? "customer-order" : "supplier-order", ids.last!))]))
                ids.append(next.id)
            }
            // From the top: 51 levels (depth 0…50) are shown, the rest is cut.
            let fromTop = try await structure(h, "document=customer-order:\(ids[0])")
            #expect(fromTop.roots == [ids[0]])
            #expect(fromTop.nodes.count == 51)
            #expect(fromTop.truncated == true)
            // From the bottom: the walk up stops 50 links above it.
            let fromBottom = try await structure(h, "document=supplier-order:\(ids[52])")
            #expect(fromBottom.roots == [ids[2]])
            #expect(fromBottom.truncated == true)
            // A short tree is whole.
            let middle = try await createOrder(h, "customer-orders", orderJSON(world))
            let child = try await createOrder(h, "supplier-orders", jsonText([("basis", basisJSON("customer-order", middle.id))]))
            _ = try requireOrder(try await h.request(.delete, "/v1/customer-orders/\(middle.id)"))
            let response = try await h.request(.get, "/v1/structure?document=supplier-order:\(child.id)")
            expectStatus(response, 200)
            let tree = StructureView(response.text)
            #expect(tree.roots == [middle.id])
            #expect(tree.edges == ["\(middle.id)>\(child.id)"])
            #expect(tree.truncated == false)
            #expect(response.text.contains(#""deleted":true"#))
        }
    }
}

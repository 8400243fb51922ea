import Contracts
import Foundation
import Testing
import TestSupport

@Suite("Documents: orders based on events and on other orders")
struct BasisTests {
    @Test("An order based on an event takes the omitted header members from it; given ones (and null) win")
    func basisEvent() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let event = try await h.seedEvent(SeedEvent(
                counterpartyId: world.counterparty, contactId: world.contact, dealId: world.deal, projectId: world.project,
                responsibleId: world.employee))
            let order = try await createOrder(h, "customer-orders", jsonText([
                ("basis", basisJSON("event", event)), ("lines", "[" + lineJSON(product: world.product, quantity: q("1"), price: nil) + "]"),
            ]))
            #expect(order.basisKind == "event")
            #expect(order.basisId == event)
            #expect(order.counterpartyId == world.counterparty)
            #expect(order.contactId == world.contact)
            #expect(order.dealId == world.deal)
            #expect(order.projectId == world.project)
            #expect(order.responsibleId == world.employee)
            #expect(order.total == "1500.00")

            let overridden = try await createOrder(h, "customer-orders", jsonText([
                ("basis", basisJSON("event", event)), ("dealId", "null"), ("responsibleId", q(world.otherEmployee)),
                ("lines", "[" + lineJSON(description: "x", quantity: q("1"), price: q("1")) + "]"),
            ]))
            #expect(overridden.dealId == nil)
            #expect(overridden.responsibleId == world.otherEmployee)
            #expect(overridden.contactId == world.contact)
        }
    }

    @Test("A supplier order based on a customer order copies its header (not the contact, for another counterparty), currency and lines unless given")
    func basisCustomerOrder() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let customer = try await createOrder(h, "customer-orders", orderJSON(world, lines: [
                // The product's price is in RUB: an EUR order names its own.
                lineJSON(product: world.product, quantity: q("2"), price: q("1500.00"), discount: q("5")),
                lineJSON(description: "Delivery", quantity: q("1"), price: q("300")),
            ], ["dealId": q(world.deal), "contactId": q(world.contact), "currency": q("EUR")]))
            let supplier = try await createOrder(h, "supplier-orders", jsonText([
                ("basis", basisJSON("customer-order", customer.id)), ("counterpartyId", q(world.otherCounterparty)),
            ]))
            #expect(supplier.basisKind == "customer-order")
            #expect(supplier.basisId == customer.id)
            #expect(supplier.counterpartyId == world.otherCounterparty)
            // The customer's contact is not the supplier's: it is not carried over to another counterparty.
            #expect(supplier.contactId == nil)
            #expect(supplier.dealId == world.deal)
            #expect(supplier.currency == "EUR")
            #expect(supplier.lines == customer.lines)
            #expect(supplier.total == customer.total)
            #expect(customer.total == "3150.00")
            // Lines given with the basis replace the copied ones.
            let withOwnLines = try await createOrder(h, "supplier-orders", jsonText([
                ("basis", basisJSON("customer-order", customer.id)),
                ("lines", "[" + lineJSON(description: "Own", quantity: q("1"), price: q("7")) + "]"),
            ]))
            #expect(withOwnLines.amounts == ["7.00"])
            #expect(withOwnLines.counterpartyId == world.counterparty)
            // A RUB product price is never taken over into an EUR order.
            let priceless = try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, lines: [
                lineJSON(product: world.product, quantity: q("1"), price: nil),
            ], ["currency": q("EUR")]))
            expectProblem(priceless, status: 422, fields: ["lines[0].price"])
        }
    }

    @Test("An unknown basis, a deleted one and one of the wrong kind are 422; an event published after the request is accepted once it arrived")
    func unknownAndLateBasis() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let lines = "[" + lineJSON(description: "x", quantity: q("1"), price: q("1")) + "]"
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: jsonText([("basis", basisJSON("event", newId())), ("lines", lines)])),
                status: 422, fields: ["basis"])
            let order = try await createOrder(h, "customer-orders", orderJSON(world))
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: jsonText([("basis", basisJSON("supplier-order", order.id)), ("lines", lines)])),
                status: 422, fields: ["basis"])
            _ = try requireOrder(try await h.request(.delete, "/v1/customer-orders/\(order.id)"))
            expectProblem(
                try await h.request(.post, "/v1/supplier-orders", json: jsonText([("basis", basisJSON("customer-order", order.id)), ("lines", lines)])),
                status: 422, fields: ["basis"])
            let gone = try await h.seedEvent(SeedEvent(counterpartyId: world.counterparty, deleted: true))
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: jsonText([("basis", basisJSON("event", gone)), ("lines", lines)])),
                status: 422, fields: ["basis"])

            // Refused while crm-events has not published the event, accepted once it arrived.
            let late = SeedEvent(counterpartyId: world.otherCounterparty)
            let body = jsonText([("basis", basisJSON("event", late.id)), ("lines", lines)])
            expectProblem(try await h.request(.post, "/v1/customer-orders", json: body), status: 422, fields: ["basis"])
            try await h.publishEvent(late)
            var response = try await h.request(.post, "/v1/customer-orders", json: body)
            let deadline = ContinuousClock.now + .seconds(30)
            while response.status == 422 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                response = try await h.request(.post, "/v1/customer-orders", json: body)
            }
            let accepted = try requireOrder(response, status: 201)
            #expect(accepted.counterpartyId == world.otherCounterparty)
        }
    }
}

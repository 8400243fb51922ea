import Foundation
import Testing
import TestSupport

@Suite("Documents: who may do what")
struct AuthorizationTests {
    @Test("Viewers read but never write; no token is 401; integrations create and read back only their own")
    func viewersAndIntegrations() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let order = try await createOrder(h, "customer-orders", orderJSON(world))
            _ = try await getOrder(h, "customer-orders", order.id, role: .viewer)
            expectStatus(try await h.request(.get, "/v1/customer-orders", role: .viewer), 200)
            expectStatus(try await h.request(.get, "/v1/structure?document=customer-order:\(order.id)", role: .viewer), 200)
            expectProblem(try await h.request(.post, "/v1/customer-orders", role: .viewer, json: orderJSON(world)), status: 403)
            expectProblem(try await h.request(.patch, "/v1/customer-orders/\(order.id)", role: .viewer, json: "{}"), status: 403)
            expectProblem(try await action(h, "customer-orders", order.id, "confirm", role: .viewer), status: 403)
            expectProblem(try await h.request(.delete, "/v1/customer-orders/\(order.id)", role: .viewer), status: 403)
            expectProblem(try await h.request(.get, "/v1/customer-orders/\(order.id)", role: nil), status: 401)
            expectProblem(try await h.request(.post, "/v1/supplier-orders", role: nil, json: orderJSON(world)), status: 401)

            let connector = try await createOrder(h, "supplier-orders", orderJSON(world), role: .integration)
            #expect(connector.authorId == Harness.defaultSubject(for: .integration))
            _ = try await getOrder(h, "supplier-orders", connector.id, role: .integration)
            // It may confirm what it created, not what others did.
            expectProblem(try await action(h, "customer-orders", order.id, "confirm", role: .integration), status: 403)
            _ = try requireOrder(try await action(h, "supplier-orders", connector.id, "confirm", role: .integration))
            #expect(try await getOrder(h, "customer-orders", order.id).version == 1)
            // Nothing else is readable for it: others' orders do not exist, lists and the structure are refused.
            expectProblem(try await h.request(.get, "/v1/customer-orders/\(order.id)", role: .integration), status: 404)
            expectProblem(try await h.request(.get, "/v1/customer-orders", role: .integration), status: 403)
            expectProblem(try await h.request(.get, "/v1/structure?document=customer-order:\(order.id)", role: .integration), status: 403)
            // A basis it did not create would hand it that order's contents.
            let basedOnOthers = #"{"basis":{"kind":"customer-order","id":"\#(order.id)"}}"#
            expectProblem(try await h.request(.post, "/v1/supplier-orders", role: .integration, json: basedOnOthers), status: 403)
            let basedOnOwn = #"{"basis":{"kind":"supplier-order","id":"\#(connector.id)"}}"#
            let own = try await h.request(.post, "/v1/supplier-orders", role: .integration, json: basedOnOwn)
            #expect(own.status == 201 || own.status == 422, "its own order may be a basis: \(own.status) \(own.text)")
        }
    }

    @Test("A manager changes orders they author or are responsible for (403 on another's); admins change any")
    func managers() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let stranger = newId()
            let mine = try await createOrder(h, "customer-orders", orderJSON(world), role: .manager)
            #expect(mine.authorId == Harness.defaultSubject(for: .manager))
            let path = "/v1/customer-orders/\(mine.id)"
            expectProblem(try await h.request(.patch, path, role: .manager, subject: stranger, json: #"{"comment":"mine"}"#), status: 403)
            for name in ["confirm", "complete", "cancel"] {
                expectProblem(try await action(h, "customer-orders", mine.id, name, role: .manager, subject: stranger), status: 403)
            }
            expectProblem(try await h.request(.delete, path, role: .manager, subject: stranger), status: 403)
            #expect(try await getOrder(h, "customer-orders", mine.id).version == 1)
            // Others still read it.
            expectStatus(try await h.request(.get, path, role: .manager, subject: stranger), 200)

            #expect(try requireOrder(try await h.request(.patch, path, role: .manager, json: #"{"comment":"ok"}"#)).version == 2)
            _ = try requireOrder(try await action(h, "customer-orders", mine.id, "confirm", role: .manager))

            // The responsible employee may change an order someone else authored; a colleague may not.
            let assigned = try await createOrder(h, "supplier-orders", orderJSON(world, ["responsibleId": q(world.employee)]))
            expectProblem(try await action(h, "supplier-orders", assigned.id, "confirm", role: .manager), status: 403)
            expectProblem(
                try await action(h, "supplier-orders", assigned.id, "confirm", role: .manager, subject: world.otherEmployee), status: 403)
            _ = try requireOrder(try await action(h, "supplier-orders", assigned.id, "confirm", role: .manager, subject: world.employee))

            // Admins change anyone's.
            _ = try requireOrder(try await action(h, "customer-orders", mine.id, "cancel", role: .admin))
            #expect(try requireOrder(try await h.request(.delete, path, role: .admin)).deleted == true)
        }
    }
}

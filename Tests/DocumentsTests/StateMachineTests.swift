import Foundation
import HTTPTypes
import Testing
import TestSupport

@Suite("Documents: the order state machine and conditional writes")
struct StateMachineTests {
    @Test("draft → confirmed → completed; draft/confirmed → cancelled; every other transition is 409")
    func transitions() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            for kind in ["customer-orders", "supplier-orders"] {
                let order = try await createOrder(h, kind, orderJSON(world))
                expectProblem(try await action(h, kind, order.id, "complete"), status: 409)
                let confirmed = try requireOrder(try await action(h, kind, order.id, "confirm"))
                #expect(confirmed.state == "confirmed")
                #expect(confirmed.version == 2)
                #expect(confirmed.members.contains("confirmedAt"))
                expectProblem(try await action(h, kind, order.id, "confirm"), status: 409)
                let completed = try requireOrder(try await action(h, kind, order.id, "complete"))
                #expect(completed.state == "completed")
                #expect(completed.version == 3)
                for name in ["confirm", "complete", "cancel"] {
                    expectProblem(try await action(h, kind, order.id, name), status: 409)
                }

                let draft = try await createOrder(h, kind, orderJSON(world))
                #expect(try requireOrder(try await action(h, kind, draft.id, "cancel")).state == "cancelled")
                for name in ["confirm", "complete", "cancel"] {
                    expectProblem(try await action(h, kind, draft.id, name), status: 409)
                }
                let another = try await createOrder(h, kind, orderJSON(world))
                _ = try requireOrder(try await action(h, kind, another.id, "confirm"))
                #expect(try requireOrder(try await action(h, kind, another.id, "cancel")).state == "cancelled")
                expectProblem(try await action(h, kind, newId(), "confirm"), status: 404)
            }
        }
    }

    @Test("PATCH outside draft is 409; a stale If-Match is 412 with the current ETag; nothing changes")
    func patchRules() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let order = try await createOrder(h, "customer-orders", orderJSON(world))
            let stale = try await h.request(
                .patch, "/v1/customer-orders/\(order.id)", json: #"{"comment":"late"}"#, headers: ["If-Match": "\"7\""])
            expectProblem(stale, status: 412)
            #expect(stale.headers[.eTag] == "\"1\"")
            expectProblem(try await action(h, "customer-orders", order.id, "confirm", headers: ["If-Match": "\"2\""]), status: 412)
            expectProblem(
                try await h.request(.delete, "/v1/customer-orders/\(order.id)", headers: ["If-Match": "\"2\""]), status: 412)
            // The basis never changes, and state changes only through the actions.
            expectProblem(
                try await h.request(.patch, "/v1/customer-orders/\(order.id)", json: #"{"basis":{"kind":"event","id":"\#(newId())"}}"#),
                status: 422, fields: ["basis"])
            expectProblem(try await h.request(.patch, "/v1/customer-orders/\(order.id)", json: #"{"state":"confirmed"}"#),
                          status: 422, fields: ["state"])
            expectProblem(try await h.request(.patch, "/v1/customer-orders/\(order.id)", json: #"{"currency":null,"date":null}"#),
                          status: 422, fields: ["currency", "date"])
            #expect(try await getOrder(h, "customer-orders", order.id).version == 1)

            _ = try requireOrder(try await action(h, "customer-orders", order.id, "confirm", headers: ["If-Match": "\"1\""]))
            expectProblem(try await h.request(.patch, "/v1/customer-orders/\(order.id)", json: #"{"comment":"x"}"#), status: 409)
            let after = try await getOrder(h, "customer-orders", order.id)
            #expect(after.version == 2)
            #expect(after.comment == nil)
        }
    }

    @Test("Concurrent PATCHes of one order with the same If-Match: exactly one 200, the others 412")
    func concurrentPatches() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let order = try await createOrder(h, "customer-orders", orderJSON(world))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        try await h.request(
                            .patch, "/v1/customer-orders/\(order.id)", json: #"{"comment":"writer \#(index)"}"#,
                            headers: ["If-Match": "\"1\""]
                        ).status
                    }
                }
                var statuses: [Int] = []
                for try await status in group { statuses.append(status) }
                return statuses
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 412 }.count == 5, "\(statuses)")
            #expect(try await getOrder(h, "customer-orders", order.id).version == 2)
        }
    }
}

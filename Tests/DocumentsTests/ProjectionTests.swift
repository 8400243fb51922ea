import Contracts
import Foundation
import Testing
import TestSupport

@Suite("Documents: the projections of crm.events.v1 and the catalog topics")
struct ProjectionTests {
    @Test("A newer event snapshot moves it in the structure; an older one replayed changes nothing; a deleted counterparty is refused")
    func newestVersionWins() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let parent = try await h.seedEvent(SeedEvent(number: "EV-000010", subject: "Parent", counterpartyId: world.counterparty))
            var child = SeedEvent(number: "EV-000011", subject: "Child v1", counterpartyId: world.counterparty)
            try await h.seedEvent(child)
            #expect(try await structure(h, "document=event:\(child.id)").roots == [child.id])

            // crm-events changed the child: now a follow-up of the parent.
            child.version = 2
            child.subject = "Child v2"
            child.basisId = parent
            try await h.seedEvent(child)
            let tree = try await structure(h, "document=event:\(child.id)")
            #expect(tree.roots == [parent])
            #expect(tree.node(child.id)?.title == "Child v2")

            // A replay of version 1 is ignored (the basis stays).
            var stale = child
            stale.version = 1
            stale.subject = "Child v1"
            stale.basisId = nil
            try await h.publishEvent(stale)
            // Watched for 3 s (the consumer applies a message in well under that): never reverts.
            let deadline = ContinuousClock.now + .seconds(3)
            while ContinuousClock.now < deadline {
                let after = try await structure(h, "document=event:\(child.id)")
                #expect(after.roots == [parent])
                #expect(after.node(child.id)?.title == "Child v2")
                try await Task.sleep(for: .milliseconds(300))
            }
            let held = try await h.pool.query("SELECT version FROM events WHERE id = \(UUID(uuidString: child.id)!)")
            #expect(try held.first?.decode("version", as: Int.self) == 2)

            // The counterparty deleted in crm-attributes: new orders for it are refused.
            try await h.publishCatalog(Topic.counterparties, "counterparty", id: world.counterparty, version: 2, deleted: true,
                                       data: ["name": .string("Acme")])
            try await h.waitFor("counterparties", ids: [world.counterparty], version: 2)
            expectProblem(try await h.request(.post, "/v1/customer-orders", json: orderJSON(world)), status: 422, fields: ["counterpartyId"])
        }
    }
}

import Contracts
import Foundation
import Testing
import TestSupport

@Suite("Documents across a restart")
struct RestartTests {
    @Test("Orders written around a restart of the background work are all published (at least once, same version); projections go on after it")
    func restartMidStream() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await createOrder(h, "customer-orders", orderJSON(world)).id) }
            try await h.restart()
            for _ in 0..<5 { ids.append(try await createOrder(h, "supplier-orders", orderJSON(world)).id) }
            // Events and catalog objects published after the restart still arrive.
            let event = try await h.seedEvent(SeedEvent(counterpartyId: world.otherCounterparty))
            let late = newId()
            try await h.publishCatalog(Topic.counterparties, "counterparty", id: late, data: ["name": .string("Late")])
            try await h.waitFor("counterparties", ids: [late])
            let based = try await createOrder(h, "customer-orders", jsonText([
                ("basis", basisJSON("event", event)), ("counterpartyId", q(late)),
                ("lines", "[" + lineJSON(description: "x", quantity: q("1"), price: q("1")) + "]"),
            ]))
            ids.append(based.id)

            // The relay delivers at least once: a row sent just before the stop may go out again
            // after it, with the same version (which consumers ignore). Nothing is lost.
            let messages = try await h.messages(on: Topic.documents, count: 1000, timeout: .seconds(12)).map(TopicMessage.init)
            #expect(Set(messages.compactMap(\.key)) == Set(ids))
            #expect(messages.allSatisfy { $0.version == 1 && $0.type?.hasSuffix(".created") == true })
            #expect(messages.count <= ids.count + 5, "\(messages.count) messages for \(ids.count) orders")
        }
    }
}

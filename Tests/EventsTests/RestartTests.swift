import Foundation
import Testing
import TestSupport

@Suite("Telephony across a restart")
struct RestartTests {
    @Test("Restart in the middle of a stream of 20 calls (some delivered again): every call becomes exactly one event")
    func restartMidStream() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let formats = ["+7 (495) 123-45-67", "84951234567", "+74951234567", "8 495 123 45 67"]
            let calls = (0..<20).map { index in
                CallRecord.answered(
                    from: formats[index % formats.count], endedSecondsAgo: Double(600 - index * 10),
                    callId: "pbx-restart-\(index)-\(newId())")
            }

            for (index, call) in calls.prefix(10).enumerated() {
                try await publishCall(h, call, cloudEvent: index % 2 == 1)
            }
            // Let the service get part of the way through, then restart it.
            _ = try await waitForEvents(h, "counterpartyId=\(acme)&limit=500", count: 3)
            try await h.restartService()

            for call in calls.suffix(10) {
                try await publishCall(h, call)
            }
            // A connector re-sending part of the stream after the restart changes nothing.
            for call in calls[5..<10] {
                try await publishCall(h, call)
            }

            let page = try await settledEvents(h, "counterpartyId=\(acme)&limit=500", count: 20, timeout: .seconds(40))
            let callIds = page.items.compactMap(\.callId)
            #expect(page.items.count == 20, "\(page.items.count) events for 20 calls")
            #expect(callIds.count == page.items.count, "every event carries its callId")
            #expect(Set(callIds).count == callIds.count, "callIds repeat: \(callIds.sorted())")
            #expect(Set(callIds) == Set(calls.map(\.callId)), "missing: \(Set(calls.map(\.callId)).subtracting(callIds).sorted())")
            #expect(page.items.allSatisfy { $0.state == "completed" && $0.source == "telephony" })
            #expect(Set(page.items.compactMap(\.number)).count == 20, "numbers stay unique across the restart")

            let everything = try await listIds(h, "limit=500&includeDeleted=true")
            #expect(everything.count == 20, "nothing else was created: \(everything.count)")
        }
    }
}

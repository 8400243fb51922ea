import Foundation
import Testing
import TestSupport

@Suite("Telephony matching and other outcomes")
struct TelephonyMatchingTests {
    @Test("A number shared by two counterparties goes to the one with the most recent event")
    func sharedNumberGoesToTheMostRecentlyActive() async throws {
        try await Harness.run { h in
            let quiet = try await h.seedCounterparty(name: "Quiet LLC", phones: ["+74957770001"])
            let busy = try await h.seedCounterparty(name: "Busy LLC", phones: ["+74957770001"])
            // Busy has a recent interaction; Quiet has an old one.
            let old = try await h.request(.post, "/v1/events", json: #"""
                {"channel":"email","direction":"outgoing","subject":"Old letter","counterpartyId":"\#(quiet)",
                 "startsAt":"2020-01-01T10:00:00Z","endsAt":"2020-01-01T10:05:00Z"}
                """#)
            #expect(old.status == 201, "\(old.text)")
            let recent = try await h.request(.post, "/v1/events", json: #"""
                {"channel":"email","direction":"outgoing","subject":"Recent letter","counterpartyId":"\#(busy)",
                 "startsAt":"\#(rfc3339(Date().addingTimeInterval(-3600)))","endsAt":"\#(rfc3339(Date().addingTimeInterval(-3500)))"}
                """#)
            #expect(recent.status == 201, "\(recent.text)")

            let call = CallRecord.answered(from: "8 (495) 777-00-01")
            try await publishCall(h, call)
            let page = try await waitForEvents(h, "counterpartyId=\(busy)&channel=phone-call", count: 1)
            let event = try #require(eventOfCall(page, call.callId), "the call should land on Busy LLC")
            #expect(event.counterpartyId == busy)
            let quietCalls = try await listEvents(h, "counterpartyId=\(quiet)&channel=phone-call")
            #expect(quietCalls.items.isEmpty)
        }
    }

    @Test("A failed call and an unanswered outgoing call are recorded as cancelled, with no call-back")
    func failedAndUnansweredOutgoingCalls() async throws {
        try await Harness.run { h in
            let client = try await h.seedCounterparty(name: "Romashka", phones: ["+74951230001"])
            var failed = CallRecord.unanswered("failed", from: "+74951230001")
            failed.callId = "pbx-failed-\(newId())"
            let unanswered = CallRecord(
                callId: "pbx-out-\(newId())", direction: "outbound", from: "+74951110000", to: "+7 495 123-00-01",
                extension: "101", startedAt: Date().addingTimeInterval(-60), answeredAt: nil,
                endedAt: Date().addingTimeInterval(-30), status: "missed", recordingUrl: nil)
            try await publishCall(h, failed)
            try await publishCall(h, unanswered)

            let page = try await waitForEvents(h, "counterpartyId=\(client)", count: 2)
            let failedEvent = try #require(eventOfCall(page, failed.callId))
            #expect(failedEvent.state == "cancelled")
            #expect(failedEvent.cancelReason == "failed")
            let outgoing = try #require(eventOfCall(page, unanswered.callId))
            #expect(outgoing.state == "cancelled")
            #expect(outgoing.direction == "outgoing")
            #expect(outgoing.cancelReason == "missed")
            // Give a call-back the time it would need to appear, then check none did.
            try await Task.sleep(for: .seconds(2))
            let all = try await listEvents(h, "counterpartyId=\(client)")
            #expect(all.items.count == 2, "no call-back for these outcomes: \(all.items.map(\.subject))")
        }
    }
}

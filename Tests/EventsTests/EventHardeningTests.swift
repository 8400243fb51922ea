import Foundation
import HTTPTypes
import ServiceKit
import Testing
import TestSupport

/// The hardening issue's reproductions on crm-events: oversized content, NUL characters,
/// concurrent writers with one `If-Match`, and follow-ups by callers who cannot read the event.
@Suite("Events hardening")
struct EventHardeningTests {
    @Test("content over 64 KiB is refused with 422 when written, so no message can outgrow the broker")
    func oversizedContent() async throws {
        try await Harness.run { h in
            let huge = String(repeating: "я", count: 40_000)  // 80,000 bytes of UTF-8
            let response = try await h.request(.post, "/v1/events", json: eventJSON("Big", ["content": q(huge)]))
            expectProblem(response, status: 422, fields: ["content"])
            let fits = String(repeating: "a", count: 60_000)
            _ = try await createEvent(h, eventJSON("Fits", ["content": q(fits)]))
            // A body of 1.5 MB (the issue's reproduction) never reaches the handler.
            let body = eventJSON("Huge", ["content": q(String(repeating: "x", count: 1_500_000))])
            let refused = try await h.request(.post, "/v1/events", json: body)
            #expect(refused.status == 413, "\(refused.status)")
        }
    }

    @Test("a NUL character in the subject is a 422, not a silently cut value")
    func nulInSubject() async throws {
        try await Harness.run { h in
            let response = try await h.request(.post, "/v1/events", json: #"{"subject":"nul\u0000here"}"#)
            expectProblem(response, status: 422, fields: ["subject"])
            let list = try await h.request(.get, "/v1/events?q=a%00")
            expectProblem(list, status: 422, fields: ["q"])
        }
    }

    @Test("10 concurrent PATCHes of one event with the same If-Match: exactly one 200, the others 412")
    func ifMatchUnderContention() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Contended"))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 1...10 {
                    group.addTask {
                        try await h.request(
                            .patch, "/v1/events/\(event.id)", json: jsonText(["subject": q("writer \(index)")]),
                            headers: ["If-Match": "\"1\""]
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "statuses: \(statuses)")
            #expect(statuses.filter { $0 == 412 }.count == 9, "statuses: \(statuses)")
            #expect(try await getEvent(h, event.id).version == 2)
        }
    }

    @Test("16 concurrent state changes and edits of one event: no 5xx, and the version counts every success")
    func concurrentWriters() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Busy"))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 1...16 {
                    group.addTask {
                        switch index % 3 {
                        case 0: try await h.request(.post, "/v1/events/\(event.id)/complete").status
                        case 1: try await h.request(.post, "/v1/events/\(event.id)/reopen").status
                        default: try await h.request(.patch, "/v1/events/\(event.id)", json: jsonText(["subject": q("edit \(index)")])).status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 409 }, "statuses: \(statuses)")
            let successes = statuses.filter { $0 == 200 }.count
            #expect(try await getEvent(h, event.id).version == 1 + successes)
        }
    }

    @Test("a tampered history cursor is a 400, never a 500", arguments: [
        #"{"sortAt":"x","id":"00000000-0000-0000-0000-000000000001"}"#, #"{"sortAt":"2026-12-01","id":"nope"}"#, "not json",
    ])
    func tamperedCursor(position: String) async throws {
        try await Harness.run { h in
            let cursor = Data(position.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let response = try await h.request(.get, "/v1/events?cursor=\(cursor)")
            expectProblem(response, status: 400, fields: ["cursor"])
        }
    }

    @Test("an integration may not create a follow-up of an event it cannot read")
    func integrationFollowUp() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Secret subject"))
            let response = try await h.request(.post, "/v1/events/\(event.id)/follow-ups", role: .integration, json: "{}")
            expectProblem(response, status: 403)
        }
    }
}

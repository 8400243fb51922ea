import Foundation
import Testing
import TestSupport

@Suite("Events: the state machine (complete, cancel, reopen)")
struct StateMachineTests {
    @Test("planned → completed: 200, completedAt set, version +1, ETag, still readable and listed")
    func complete() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let event = try await createEvent(h, fullEventJSON(w))
            let response = try await postAction(h, event.id, "complete")
            let completed = try requireEvent(response, status: 200)
            #expect(completed.id == event.id)
            #expect(completed.state == "completed")
            let completedAt = try #require(parseRFC3339(completed.completedAt), "completedAt: \(completed)")
            #expect(abs(completedAt.timeIntervalSinceNow) < 120)
            #expect(completed.cancelledAt == nil)
            #expect(completed.cancelReason == nil)
            #expect(completed.version == 2)
            #expect(response.etag == quotedVersion(2))
            #expect(completed.subject == event.subject)
            #expect(completed.counterpartyId == w.counterparty)

            let read = try await getEvent(h, event.id)
            #expect(read.state == "completed")
            #expect(read.deleted == false)
            #expect(sameInstant(read.completedAt, completed.completedAt))
            #expect(try await listIds(h, "counterpartyId=\(w.counterparty)") == [event.id], "a completed event stays in the history")
        }
    }

    @Test("planned → cancelled with a reason: cancelReason and cancelledAt set, still in the history")
    func cancel() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let event = try await createEvent(h, fullEventJSON(w))
            let response = try await postAction(h, event.id, "cancel", json: cancelJSON("Client is on vacation"))
            let cancelled = try requireEvent(response, status: 200)
            #expect(cancelled.state == "cancelled")
            #expect(cancelled.cancelReason == "Client is on vacation")
            let cancelledAt = try #require(parseRFC3339(cancelled.cancelledAt), "cancelledAt: \(cancelled)")
            #expect(abs(cancelledAt.timeIntervalSinceNow) < 120)
            #expect(cancelled.completedAt == nil)
            #expect(cancelled.version == 2)
            #expect(response.etag == quotedVersion(2))

            let read = try await getEvent(h, event.id)
            #expect(read.state == "cancelled")
            #expect(read.cancelReason == "Client is on vacation")
            #expect(try await listIds(h, "counterpartyId=\(w.counterparty)&state=cancelled") == [event.id])
        }
    }

    @Test("reopen: completed → planned and cancelled → planned; a reopened event completes again")
    func reopen() async throws {
        try await Harness.run { h in
            let done = try await createEvent(h, eventJSON("Done too early"))
            expectStatus(try await postAction(h, done.id, "complete"), 200)
            let reopened = try requireEvent(try await postAction(h, done.id, "reopen"), status: 200)
            #expect(reopened.state == "planned")
            #expect(reopened.version == 3)

            let dropped = try await createEvent(h, eventJSON("Dropped by mistake"))
            expectStatus(try await postAction(h, dropped.id, "cancel", json: cancelJSON("Wrong client")), 200)
            let back = try requireEvent(try await postAction(h, dropped.id, "reopen"), status: 200)
            #expect(back.state == "planned")
            #expect(back.version == 3)

            let finished = try requireEvent(try await postAction(h, back.id, "complete"), status: 200)
            #expect(finished.state == "completed")
            #expect(finished.completedAt != nil)
            #expect(finished.version == 4)
            let cancelledAgain = try requireEvent(try await postAction(h, reopened.id, "cancel", json: cancelJSON("Not needed")), status: 200)
            #expect(cancelledAgain.state == "cancelled")
            #expect(cancelledAgain.cancelReason == "Not needed")
            #expect(cancelledAgain.version == 4)

            #expect(try await listIds(h, "state=planned").isEmpty)
            #expect(try await listIds(h, "state=completed") == [finished.id])
            #expect(try await listIds(h, "state=cancelled") == [cancelledAgain.id])
        }
    }

    @Test("Every other transition is a 409 problem and changes nothing")
    func refusedTransitions() async throws {
        try await Harness.run { h in
            let planned = try await createEvent(h, eventJSON("Planned"))
            let completed = try await createEvent(h, eventJSON("Completed"))
            expectStatus(try await postAction(h, completed.id, "complete"), 200)
            let cancelled = try await createEvent(h, eventJSON("Cancelled"))
            expectStatus(try await postAction(h, cancelled.id, "cancel", json: cancelJSON("First reason")), 200)

            // reopen a planned event
            expectProblem(try await postAction(h, planned.id, "reopen"), status: 409)
            // complete or cancel a completed event
            expectProblem(try await postAction(h, completed.id, "complete"), status: 409)
            expectProblem(try await postAction(h, completed.id, "cancel", json: cancelJSON("Too late")), status: 409)
            // cancel or complete a cancelled event
            expectProblem(try await postAction(h, cancelled.id, "cancel", json: cancelJSON("Second reason")), status: 409)
            expectProblem(try await postAction(h, cancelled.id, "complete"), status: 409)

            let plannedAfter = try await getEvent(h, planned.id)
            #expect(plannedAfter.state == "planned")
            #expect(plannedAfter.version == 1)
            let completedAfter = try await getEvent(h, completed.id)
            #expect(completedAfter.state == "completed")
            #expect(completedAfter.version == 2)
            #expect(completedAfter.cancelReason == nil)
            let cancelledAfter = try await getEvent(h, cancelled.id)
            #expect(cancelledAfter.state == "cancelled")
            #expect(cancelledAfter.version == 2)
            #expect(cancelledAfter.cancelReason == "First reason")
        }
    }

    @Test("An event created as completed or cancelled follows the same rules")
    func createdInFinalState() async throws {
        try await Harness.run { h in
            let met = try await createEvent(h, eventJSON("Met at the fair", ["channel": q("meeting"), "state": q("completed")]))
            expectProblem(try await postAction(h, met.id, "complete"), status: 409)
            let reopened = try requireEvent(try await postAction(h, met.id, "reopen"), status: 200)
            #expect(reopened.state == "planned")
        }
    }
}

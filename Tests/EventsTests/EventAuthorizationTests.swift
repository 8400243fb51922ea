import Foundation
import HTTPTypes
import Testing
import TestSupport

@Suite("Events: who may do what")
struct EventAuthorizationTests {
    @Test("A manager cannot edit, complete, cancel, reopen or delete another manager's event (403); the author can")
    func otherManagersEvent() async throws {
        try await Harness.run { h in
            let author = Harness.defaultSubject(for: .manager)
            let stranger = newId()
            let event = try await createEvent(h, eventJSON("Call the client"), role: .manager)
            #expect(event.authorId == author)

            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", role: .manager, subject: stranger, json: #"{"subject":"Mine now"}"#),
                status: 403)
            expectProblem(try await postAction(h, event.id, "complete", role: .manager, subject: stranger), status: 403)
            expectProblem(
                try await postAction(h, event.id, "cancel", role: .manager, subject: stranger, json: cancelJSON("Not needed")),
                status: 403)
            expectProblem(try await h.request(.delete, "/v1/events/\(event.id)", role: .manager, subject: stranger), status: 403)
            let untouched = try await getEvent(h, event.id)
            #expect(untouched.version == 1)
            #expect(untouched.state == "planned")
            #expect(untouched.deleted == false)

            let patched = try requireEvent(
                try await h.request(.patch, "/v1/events/\(event.id)", role: .manager, json: #"{"subject":"Call the client today"}"#),
                status: 200)
            #expect(patched.version == 2)
            let completed = try requireEvent(try await postAction(h, event.id, "complete", role: .manager), status: 200)
            #expect(completed.state == "completed")

            expectProblem(try await postAction(h, event.id, "reopen", role: .manager, subject: stranger), status: 403)
            let reopened = try requireEvent(try await postAction(h, event.id, "reopen", role: .manager), status: 200)
            #expect(reopened.state == "planned")
            #expect(reopened.version == 4)
            // Managers still read everyone's events.
            #expect(try await getEvent(h, event.id, role: .manager).version == 4)
            let strangerRead = try await h.request(.get, "/v1/events/\(event.id)", role: .manager, subject: stranger)
            expectStatus(strangerRead, 200)
        }
    }

    @Test("The responsible manager may edit and change the state of an event someone else authored")
    func responsibleManager() async throws {
        try await Harness.run { h in
            let executor = try await h.seedEmployee(id: newId(), name: "Executor")
            let colleague = try await h.seedEmployee(id: newId(), name: "Colleague")
            let survey = try await h.seedProject(name: "Quality assessment")
            let task = try await createEvent(h, eventJSON("Quality assessment", [
                "projectId": q(survey), "responsibleId": q(executor),
            ]))
            #expect(task.authorId == Harness.defaultSubject(for: .admin))

            expectProblem(try await postAction(h, task.id, "complete", role: .manager, subject: colleague), status: 403)
            expectProblem(try await postAction(h, task.id, "complete", role: .manager), status: 403)

            let done = try requireEvent(try await postAction(h, task.id, "complete", role: .manager, subject: executor), status: 200)
            #expect(done.state == "completed")
            let reopened = try requireEvent(try await postAction(h, task.id, "reopen", role: .manager, subject: executor), status: 200)
            #expect(reopened.state == "planned")
            let edited = try requireEvent(
                try await h.request(
                    .patch, "/v1/events/\(task.id)", role: .manager, subject: executor, json: #"{"content":"Client is satisfied"}"#,
                    headers: ["If-Match": quotedVersion(3)]),
                status: 200)
            #expect(edited.content == "Client is satisfied")
            let cancelled = try requireEvent(
                try await postAction(h, task.id, "cancel", role: .manager, subject: executor, json: cancelJSON("Duplicate")),
                status: 200)
            #expect(cancelled.state == "cancelled")
            #expect(cancelled.version == 5)
        }
    }

    @Test("An admin may change any manager's event")
    func adminChangesAnything() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Manager's call"), role: .manager)
            expectStatus(try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"subject":"Admin's fix"}"#), 200)
            expectStatus(try await postAction(h, event.id, "complete"), 200)
            expectStatus(try await postAction(h, event.id, "reopen"), 200)
            expectStatus(try await postAction(h, event.id, "cancel", json: cancelJSON("Reassigned")), 200)
            expectDeleted(try await h.request(.delete, "/v1/events/\(event.id)"))
            let read = try await getEvent(h, event.id)
            #expect(read.deleted == true)
            #expect(read.subject == "Admin's fix")
            #expect(read.version == 6)
        }
    }

    @Test("A viewer reads events but every write is 403 and changes nothing")
    func viewerReadsOnly() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Call"))
            expectStatus(try await h.request(.get, "/v1/events/\(event.id)", role: .viewer), 200)
            let list = try await listEvents(h, "", role: .viewer)
            #expect(list.ids == [event.id])

            expectProblem(try await h.request(.post, "/v1/events", role: .viewer, json: eventJSON("Mine")), status: 403)
            expectProblem(try await h.request(.patch, "/v1/events/\(event.id)", role: .viewer, json: #"{"subject":"x"}"#), status: 403)
            expectProblem(try await postAction(h, event.id, "complete", role: .viewer), status: 403)
            expectProblem(try await postAction(h, event.id, "cancel", role: .viewer, json: cancelJSON("x")), status: 403)
            expectProblem(try await h.request(.delete, "/v1/events/\(event.id)", role: .viewer), status: 403)
            expectProblem(try await postAction(h, event.id, "follow-ups", role: .viewer, json: eventJSON("Next")), status: 403)
            expectStatus(try await postAction(h, event.id, "complete"), 200)
            expectProblem(try await postAction(h, event.id, "reopen", role: .viewer), status: 403)

            let after = try await getEvent(h, event.id)
            #expect(after.version == 2)
            #expect(after.subject == "Call")
            #expect(try await listIds(h, "") == [event.id])
        }
    }

    @Test("An integration client may create events (authorId = its client id)")
    func integrationCreates() async throws {
        try await Harness.run { h in
            let counterparty = try await h.seedCounterparty(name: "Acme")
            let event = try await createEvent(
                h, eventJSON("Chat from the website", ["channel": q("message"), "direction": q("incoming"), "counterpartyId": q(counterparty)]),
                role: .integration)
            #expect(event.authorId == Harness.defaultSubject(for: .integration))
            #expect(event.source == "api")
            #expect(try await listIds(h, "counterpartyId=\(counterparty)") == [event.id])
        }
    }

    @Test("No token or a bad token: 401 on every route")
    func unauthenticated() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Call"))
            let attempts: [(method: String, path: String, body: String?)] = [
                ("GET", "/v1/events", nil),
                ("GET", "/v1/events/\(event.id)", nil),
                ("POST", "/v1/events", eventJSON("Anonymous")),
                ("PATCH", "/v1/events/\(event.id)", #"{"subject":"x"}"#),
                ("DELETE", "/v1/events/\(event.id)", nil),
                ("POST", "/v1/events/\(event.id)/complete", nil),
                ("POST", "/v1/events/\(event.id)/cancel", cancelJSON("x")),
                ("POST", "/v1/events/\(event.id)/reopen", nil),
                ("POST", "/v1/events/\(event.id)/follow-ups", eventJSON("Next")),
            ]
            for attempt in attempts {
                let method: HTTPRequest.Method = switch attempt.method {
                case "GET": .get
                case "PATCH": .patch
                case "DELETE": .delete
                default: .post
                }
                let anonymous = try await h.request(method, attempt.path, role: nil, json: attempt.body)
                #expect(anonymous.status == 401, "\(attempt.method) \(attempt.path) without a token: \(anonymous.status)")
                let forged = try await h.request(
                    method, attempt.path, role: nil, json: attempt.body, headers: ["Authorization": "Bearer not.a.token"])
                #expect(forged.status == 401, "\(attempt.method) \(attempt.path) with a bad token: \(forged.status)")
            }
            let after = try await getEvent(h, event.id)
            #expect(after.version == 1)
            #expect(try await listIds(h, "") == [event.id])
        }
    }
}

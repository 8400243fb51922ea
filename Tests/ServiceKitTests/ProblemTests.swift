import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("Errors as problem+json")
struct ProblemTests {
    static let validDraft = #"{"name":"a","quantity":1,"startsAt":"2026-12-01T10:00:00+03:00"}"#

    private func post(_ body: String, to app: CRMApplication) async throws -> TestResponse {
        let token = try await TestApplication.token([.admin])
        return try await app.application.test(.router) { client in
            try await client.execute(
                uri: "/v1/widgets", method: .post, headers: TestApplication.bearer(token),
                body: TestApplication.json(body))
        }
    }

    @Test("400 for a body that is not JSON", arguments: ["{not json", "", "[1,2"])
    func malformedJSON(body: String) async throws {
        let app = try await TestApplication.make()
        let problem = try expectProblem(try await post(body, to: app), status: .badRequest)
        #expect(problem.detail == "The request body is not valid JSON.")
    }

    @Test(
        "400 naming the field when JSON is well formed but does not fit",
        arguments: [
            (#"{"quantity":1,"startsAt":"2026-12-01T10:00:00Z"}"#, "name"),
            (#"{"name":"a","quantity":"many","startsAt":"2026-12-01T10:00:00Z"}"#, "quantity"),
            (#"{"name":"a","quantity":null,"startsAt":"2026-12-01T10:00:00Z"}"#, "quantity"),
            (#"{"name":"a","quantity":1,"startsAt":"1 December"}"#, "startsAt"),
            (#"{"name":"a","quantity":1,"startsAt":"2026-12-01T10:00:00"}"#, "startsAt"),
        ])
    func fieldNamed(body: String, field: String) async throws {
        let app = try await TestApplication.make()
        let problem = try expectProblem(try await post(body, to: app), status: .badRequest)
        #expect(problem.errors.map(\.field) == [field])
    }

    @Test("422 lists every invalid field at once")
    func validationListsEveryField() async throws {
        let app = try await TestApplication.make()
        let body = #"{"name":"","quantity":0,"startsAt":"2026-12-01T10:00:00+03:00","endsAt":"2026-12-01T06:00:00Z"}"#
        let problem = try expectProblem(try await post(body, to: app), status: .unprocessableContent)
        #expect(problem.errors.map(\.field) == ["name", "quantity", "endsAt"])
        #expect(problem.errors.allSatisfy { !$0.message.isEmpty })
    }

    @Test("A valid body passes and comes back with its ETag")
    func validBody() async throws {
        let app = try await TestApplication.make()
        let response = try await post(Self.validDraft, to: app)
        #expect(response.status == .created)
        #expect(response.headers[.eTag] == #""1""#)
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
    }

    @Test("404 problem for an unknown route")
    func unknownRoute() async throws {
        let app = try await TestApplication.make()
        let token = try await TestApplication.token([.viewer])
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/v1/nowhere", method: .get, headers: TestApplication.bearer(token))
            let problem = try expectProblem(response, status: .notFound)
            #expect(problem.detail == "No route matches GET /v1/nowhere.")
        }
    }

    @Test("500 problem for an unexpected error, with nothing of the error in it")
    func unexpectedError() async throws {
        let app = try await TestApplication.make()
        let token = try await TestApplication.token([.viewer])
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/v1/crash", method: .get, headers: TestApplication.bearer(token))
            try expectProblem(response, status: .internalServerError)
            let text = bodyText(response)
            #expect(!text.contains("hunter2") && !text.contains("DatabaseExploded"))
        }
    }

    @Test("Constructors pick the documented statuses and always encode every member")
    func constructors() throws {
        let cases: [(Problem, Int)] = [
            (.badRequest("x"), 400), (.unauthorized(), 401), (.forbidden(), 403), (.notFound(), 404),
            (.conflict("x"), 409), (.preconditionFailed(), 412),
            (.unprocessable(errors: [FieldError(field: "a", message: "b")]), 422), (.internalServerError(), 500),
        ]
        for (problem, code) in cases {
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(problem)) as? [String: Any]
            #expect(json?["status"] as? Int == code)
            #expect(Set(json?.keys.map { $0 } ?? []) == ["type", "title", "status", "detail", "errors"])
        }
    }
}

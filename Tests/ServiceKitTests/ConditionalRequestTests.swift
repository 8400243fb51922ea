import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("ETag and If-Match")
struct ConditionalRequestTests {
    @Test(
        "If-Match values parse into versions",
        arguments: [
            (#""7""#, IfMatch.versions([7])),
            ("7", .versions([7])),
            (#"W/"7""#, .versions([7])),
            ("*", .any),
            (#""6", "7""#, .versions([6, 7])),
            (#""abc""#, .versions([])),
        ] as [(String, IfMatch)])
    func parse(header: String, expected: IfMatch) {
        #expect(IfMatch.parse(header) == expected)
    }

    @Test("An empty If-Match is no condition at all")
    func emptyHeader() {
        #expect(IfMatch.parse("  ") == nil)
        #expect(IfMatch.parse([]) == nil)
    }

    @Test("matches(version:) compares against the current version")
    func matching() {
        #expect(IfMatch.any.matches(version: 3))
        #expect(IfMatch.versions([2, 3]).matches(version: 3))
        #expect(!IfMatch.versions([2]).matches(version: 3))
        #expect(!IfMatch.versions([]).matches(version: 0))
    }

    @Test("PATCH passes with a matching or absent If-Match and returns the new ETag", arguments: [#""7""#, "7", #"W/"7""#, "*", nil])
    func patchPasses(ifMatch: String?) async throws {
        let app = try await TestApplication.make()
        let token = try await TestApplication.token([.manager])
        var headers = TestApplication.bearer(token)
        if let ifMatch { headers[.ifMatch] = ifMatch }
        try await app.application.test(.router) { [headers] client in
            let response = try await client.execute(uri: "/v1/widgets/1", method: .patch, headers: headers)
            #expect(response.status == .ok)
            #expect(response.headers[.eTag] == #""8""#)
        }
    }

    @Test("PATCH with a stale If-Match is a 412 problem carrying the current ETag", arguments: [#""6""#, #""abc""#])
    func patchStale(ifMatch: String) async throws {
        let app = try await TestApplication.make()
        let token = try await TestApplication.token([.manager])
        var headers = TestApplication.bearer(token)
        headers[.ifMatch] = ifMatch
        try await app.application.test(.router) { [headers] client in
            let response = try await client.execute(uri: "/v1/widgets/1", method: .patch, headers: headers)
            try expectProblem(response, status: .preconditionFailed)
            #expect(response.headers[.eTag] == #""7""#)
        }
    }

    @Test("ETag values are quoted versions")
    func etagValue() {
        #expect(ETag.value(forVersion: 12) == #""12""#)
    }
}

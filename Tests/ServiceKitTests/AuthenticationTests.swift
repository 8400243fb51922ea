import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("Authentication and roles")
struct AuthenticationTests {
    @Test("401 problem without a token")
    func missingToken() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/v1/whoami", method: .get)
            try expectProblem(response, status: .unauthorized)
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
    }

    @Test("401 problem for a non-bearer Authorization header", arguments: ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   "])
    func notABearerToken(header: String) async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/v1/whoami", method: .get, headers: [.authorization: header])
            try expectProblem(response, status: .unauthorized)
        }
    }

    @Test("401 problem for a token that is not a JWT")
    func garbageToken() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/whoami", method: .get, headers: TestApplication.bearer("not.a.jwt"))
            let problem = try expectProblem(response, status: .unauthorized)
            #expect(problem.detail == TokenVerificationError.malformed.description)
        }
    }

    @Test("401 problem for a token signed with another secret")
    func badSignature() async throws {
        let app = try await TestApplication.make()
        let forged = try await TestApplication.token([.admin], secret: "someone-elses-secret-0123456789abcdef")
        try await app.application.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/whoami", method: .get, headers: TestApplication.bearer(forged))
            let problem = try expectProblem(response, status: .unauthorized)
            #expect(problem.detail == TokenVerificationError.invalidSignature.description)
            #expect(response.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
        }
    }

    @Test("401 problem for a token whose payload was altered after signing")
    func tamperedPayload() async throws {
        let app = try await TestApplication.make()
        let viewerToken = try await TestApplication.token([.viewer])
        let adminToken = try await TestApplication.token([.admin])
        // The admin payload under the viewer's signature.
        let viewerParts = viewerToken.split(separator: ".")
        let adminParts = adminToken.split(separator: ".")
        let tampered = [viewerParts[0], adminParts[1], viewerParts[2]].joined(separator: ".")
        try await app.application.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/whoami", method: .get, headers: TestApplication.bearer(tampered))
            try expectProblem(response, status: .unauthorized)
        }
    }

    @Test("401 problem for an expired token")
    func expiredToken() async throws {
        let app = try await TestApplication.make()
        let expired = try await TestApplication.token([.admin], timeToLive: -60)
        try await app.application.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/whoami", method: .get, headers: TestApplication.bearer(expired))
            let problem = try expectProblem(response, status: .unauthorized)
            #expect(problem.detail == TokenVerificationError.expired.description)
        }
    }

    @Test("401 problem for a token from another issuer or without one", arguments: ["https://evil.example", nil])
    func wrongIssuer(issuer: String?) async throws {
        let app = try await TestApplication.make()
        let token = try await TestApplication.token([.admin], issuer: issuer)
        try await app.application.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/whoami", method: .get, headers: TestApplication.bearer(token))
            let problem = try expectProblem(response, status: .unauthorized)
            #expect(problem.detail == TokenVerificationError.untrustedIssuer.description)
        }
    }

    @Test("403 problem when the caller lacks every allowed role")
    func wrongRole() async throws {
        let app = try await TestApplication.make()
        let viewer = try await TestApplication.token([.viewer, .integration])
        try await app.application.test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/widgets", method: .post, headers: TestApplication.bearer(viewer),
                body: TestApplication.json(#"{"name":"a","quantity":1,"startsAt":"2026-12-01T10:00:00+03:00"}"#))
            let problem = try expectProblem(response, status: .forbidden)
            #expect(problem.detail.contains("admin, manager"))
        }
    }

    @Test("200 with the right role, and the principal carries subject and roles")
    func rightRole() async throws {
        let app = try await TestApplication.make()
        let manager = try await TestApplication.token([.manager, .viewer], subject: "employee-42")
        try await app.application.test(.router) { client in
            let created = try await client.execute(
                uri: "/v1/widgets", method: .post, headers: TestApplication.bearer(manager),
                body: TestApplication.json(#"{"name":"a","quantity":1,"startsAt":"2026-12-01T10:00:00+03:00"}"#))
            #expect(created.status == .created)

            let whoami = try await client.execute(
                uri: "/v1/whoami", method: .get, headers: TestApplication.bearer(manager))
            #expect(whoami.status == .ok)
            #expect(try decodeJSON([String: String].self, from: whoami) == ["subject": "employee-42", "roles": "manager,viewer"])
        }
    }

    @Test("Unknown roles in a token are ignored, not fatal")
    func unknownRolesIgnored() async throws {
        let token = try await HandmadeToken.hs256(
            claims: #"{"sub":"svc-1","roles":["integration","superuser"],"exp":\#(Int(Date().timeIntervalSince1970) + 600),"iss":"\#(TestApplication.issuer)"}"#,
            secret: TestApplication.secret)
        let verifier = try await TokenVerifier(configuration: TestApplication.configuration())
        let principal = try await verifier.verify(token)
        #expect(principal == Principal(subject: "svc-1", roles: [.integration]))
    }

    @Test("A token without exp is refused")
    func missingExpiry() async throws {
        let token = try await HandmadeToken.hs256(
            claims: #"{"sub":"svc-1","roles":["admin"],"iss":"\#(TestApplication.issuer)"}"#,
            secret: TestApplication.secret)
        let verifier = try await TokenVerifier(configuration: TestApplication.configuration())
        await #expect(throws: TokenVerificationError.malformed) { try await verifier.verify(token) }
    }

    @Test("An unsigned token (alg none) is refused")
    func unsignedToken() async throws {
        let header = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URLForTests
        let claims = Data(#"{"sub":"x","roles":["admin"],"exp":9999999999}"#.utf8).base64URLForTests
        let verifier = try await TokenVerifier(configuration: TestApplication.configuration())
        await #expect(throws: TokenVerificationError.unsupportedAlgorithm("none")) {
            try await verifier.verify("\(header).\(claims).")
        }
    }

    @Test("Health, metrics and the service's public patterns need no token; nothing else does")
    func publicPaths() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            for uri in ["/health/live", "/health/ready", "/metrics", "/v1/calendars/employee-1/feed.ics"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok, "\(uri)")
            }
            let feed = try await client.execute(uri: "/v1/calendars/employee-1/feed.ics", method: .get)
            #expect(bodyText(feed) == "public feed")

            let entries = try await client.execute(uri: "/v1/calendars/employee-1/entries", method: .get)
            try expectProblem(entries, status: .unauthorized)
        }
    }

    @Test("PublicPaths matches whole segments, with * for one segment")
    func publicPathMatching() {
        let paths = PublicPaths(["/v1/calendars/*/feed.ics", "/docs"])
        #expect(paths.contains(path: "/health/live"))
        #expect(paths.contains(path: "/metrics"))
        #expect(!paths.contains(path: "/metrics-private"))
        #expect(!paths.contains(path: "/health/live/extra"))
        #expect(paths.contains(path: "/v1/calendars/abc/feed.ics"))
        #expect(!paths.contains(path: "/v1/calendars/abc/entries"))
        #expect(!paths.contains(path: "/v1/calendars/feed.ics"))
        #expect(paths.contains(path: "/docs/openapi.json"))
        #expect(!paths.contains(path: "/docsx"))
        #expect(!paths.contains(path: "/docs/../v1/events"))
    }
}

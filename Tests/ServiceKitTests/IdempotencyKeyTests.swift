import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("Idempotency-Key")
struct IdempotencyKeyTests {
    private func send(_ key: String?) async throws -> TestResponse {
        let app = try await TestApplication.make()
        let token = try await TestApplication.token([.integration])
        var headers = TestApplication.bearer(token)
        if let key { headers[.idempotencyKey] = key }
        return try await app.application.test(.router) { [headers] client in
            try await client.execute(uri: "/v1/idempotent", method: .post, headers: headers)
        }
    }

    @Test("A present key is read; an absent one is nil")
    func readsKey() async throws {
        #expect(try decodeJSON([String: String].self, from: try await send("7f0c2a36-5d0e-4b8e-9d55-0e3c1c1e2f10")) == ["key": "7f0c2a36-5d0e-4b8e-9d55-0e3c1c1e2f10"])
        #expect(try decodeJSON([String: String].self, from: try await send(nil)) == ["key": "none"])
        #expect(try await send(String(repeating: "k", count: 200)).status == .ok)
    }

    @Test("A key that is too long or not visible ASCII is a 400 naming the header", arguments: [String(repeating: "k", count: 201), "two words", "ключ"])
    func rejectsBadKey(key: String) async throws {
        let problem = try expectProblem(try await send(key), status: .badRequest)
        #expect(problem.errors.map(\.field) == ["Idempotency-Key"])
    }
}

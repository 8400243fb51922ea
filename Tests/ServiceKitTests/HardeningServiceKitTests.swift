import Foundation
import Hummingbird
import HummingbirdTesting
import Messaging
import Postgres
import ServiceKit
import Testing
import TestSupport

@Suite("ServiceKit hardening: pipeline readiness, JWT audience, expiring idempotency keys")
struct HardeningServiceKitTests {
    struct Report: Decodable {
        struct Check: Decodable {
            var name: String
            var status: String
            var reason: String?
        }
        var status: String
        var checks: [Check]
    }

    @Test("/health/ready fails with the reason once a component has been failing longer than the threshold")
    func pipelineReadiness() async throws {
        let relay = ComponentHealth(name: "outbox-relay")
        let app = try await TestApplication.make(readinessChecks: [ReadinessCheck.pipeline([relay], unhealthyAfter: 30)])
        try await app.application.test(.router) { client in
            #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok)
            relay.failing("cannot publish: Broker: Message timed out", at: Date().addingTimeInterval(-5))
            #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok, "a short streak is tolerated")
            relay.failing("cannot publish: Broker: Message timed out", at: Date().addingTimeInterval(-60))
            relay.working()
            relay.failing("cannot publish: Broker: Message timed out", at: Date().addingTimeInterval(-60))
            let failing = try await client.execute(uri: "/health/ready", method: .get)
            #expect(failing.status == .serviceUnavailable)
            let report = try JSONDecoder().decode(Report.self, from: Data(buffer: failing.body))
            let pipeline = try #require(report.checks.first { $0.name == "pipeline" })
            #expect(pipeline.status == "failed")
            #expect(pipeline.reason?.contains("outbox-relay failing for 60 s") == true, "\(String(describing: pipeline.reason))")
            relay.working()
            #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok)
        }
    }

    @Test("with CRM_JWT_AUDIENCE set, a token must name it in aud")
    func audience() async throws {
        let verifier = try await TokenVerifier(
            hmacSecret: TestApplication.secret, rsaPublicKeyPEM: nil, issuer: TestApplication.issuer, audience: "crm-api")
        let issuer = try await TokenIssuer(hmacSecret: TestApplication.secret)
        let without = try await issuer.sign(subject: "e1", roles: [.admin], issuer: TestApplication.issuer)
        let other = try await issuer.sign(subject: "e1", roles: [.admin], issuer: TestApplication.issuer, audience: "billing")
        let right = try await issuer.sign(subject: "e1", roles: [.admin], issuer: TestApplication.issuer, audience: "crm-api")
        await #expect(throws: TokenVerificationError.wrongAudience) { try await verifier.verify(without) }
        await #expect(throws: TokenVerificationError.wrongAudience) { try await verifier.verify(other) }
        #expect(try await verifier.verify(right).subject == "e1")
    }

    @Test("an Idempotency-Key expires after its TTL; the stored fingerprint is a hash; the janitor deletes old keys")
    func idempotencyExpiry() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.withConnection { try await $0.executeScript(IdempotentRequests.migration.sql) }
            try await pool.execute("CREATE TABLE things (id serial PRIMARY KEY)")
            let principal = Principal(subject: "u1", roles: [.manager])
            let requests = IdempotentRequests(ttlHours: 24)
            func create() async throws {
                _ = try await requests.run(
                    key: try IdempotencyKey("k-exp"), principal: principal, fingerprint: "POST /things {\"secret\":1}", pool: pool
                ) { transaction in
                    _ = try await transaction.query("INSERT INTO things DEFAULT VALUES RETURNING id")
                    return .init(status: 201, body: "{}")
                }
            }
            try await create()
            try await create()
            #expect(try await pool.query("SELECT count(*) AS n FROM things")[0].decode("n", as: Int.self) == 1)
            let stored = try await pool.query("SELECT fingerprint FROM idempotency_keys")[0].decode("fingerprint", as: String.self)
            #expect(stored.count == 64 && !stored.contains("secret"), "stored: \(stored)")
            // A day later the key is free again.
            try await pool.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
            try await create()
            #expect(try await pool.query("SELECT count(*) AS n FROM things")[0].decode("n", as: Int.self) == 2)
            // The janitor deletes what expired.
            try await pool.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
            try await requests.deleteExpired(in: pool)
            #expect(try await pool.query("SELECT 1 FROM idempotency_keys").isEmpty)
        }
    }
}

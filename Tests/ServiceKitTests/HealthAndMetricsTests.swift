import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("Health and metrics")
struct HealthAndMetricsTests {
    struct HealthReport: Decodable, Equatable {
        struct Check: Decodable, Equatable {
            var name: String
            var status: String
        }

        var status: String
        var checks: [Check]?
    }

    struct DatabaseDown: Error {}

    @Test("/health/live answers 200 {\"status\":\"ok\"} without a token")
    func live() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/health/live", method: .get)
            #expect(response.status == .ok)
            #expect(bodyText(response) == #"{"status":"ok"}"#)
        }
    }

    @Test("/health/ready answers 200 when every check passes")
    func readyWhenChecksPass() async throws {
        let app = try await TestApplication.make(readinessChecks: [
            ReadinessCheck("database") {},
            ReadinessCheck("kafka") {},
        ])
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/health/ready", method: .get)
            #expect(response.status == .ok)
            #expect(
                try decodeJSON(HealthReport.self, from: response)
                    == HealthReport(status: "ok", checks: [.init(name: "database", status: "ok"), .init(name: "kafka", status: "ok")]))
        }
    }

    @Test("/health/ready answers 503 naming the failed and the hung checks")
    func notReadyWhenACheckFails() async throws {
        let app = try await TestApplication.make(readinessChecks: [
            ReadinessCheck("database") { throw DatabaseDown() },
            ReadinessCheck("kafka") {},
            ReadinessCheck("search", timeout: .milliseconds(50)) { try await Task.sleep(for: .seconds(60)) },
        ])
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/health/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
            let report = try decodeJSON(HealthReport.self, from: response)
            #expect(report.status == "unavailable")
            #expect(report.checks == [
                .init(name: "database", status: "failed"),
                .init(name: "kafka", status: "ok"),
                .init(name: "search", status: "failed"),
            ])
        }
    }

    @Test("/metrics serves Prometheus text, including the HTTP request metrics")
    func metrics() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            _ = try await client.execute(uri: "/health/live", method: .get)
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
            let text = bodyText(response)
            #expect(text.contains("# TYPE hb_requests counter"))
            #expect(text.contains(#"http_route="/health/live""#))
        }
    }

    @Test("Building many applications in one process bootstraps metrics once")
    func repeatedBootstrap() async throws {
        for _ in 0..<3 {
            _ = try await TestApplication.make()
        }
        PrometheusMetrics.bootstrap()
    }
}

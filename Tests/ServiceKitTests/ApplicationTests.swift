import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import ServiceLifecycle
import Synchronization
import Testing

@Suite("CRMApplication")
struct ApplicationTests {
    /// Records when the service group starts it and when it is asked to stop.
    final class RecordingService: Service {
        let events = Mutex<[String]>([])

        func run() async throws {
            events.withLock { $0.append("started") }
            try? await gracefulShutdown()
            events.withLock { $0.append("stopped") }
        }
    }

    @Test("Over a real socket, extra services run alongside the HTTP server and stop gracefully with it")
    func liveServerWithServices() async throws {
        let recorder = RecordingService()
        let app = try await CRMApplication(
            configuration: TestApplication.configuration(), services: [recorder]
        ) { router in
            router.get("/v1/ping") { _, _ in "pong" }
        }
        try await app.application.test(.live) { client in
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok)
            let unauthenticated = try await client.execute(uri: "/v1/ping", method: .get)
            try expectProblem(unauthenticated, status: .unauthorized)
        }
        #expect(recorder.events.withLock { $0 } == ["started", "stopped"])
    }

    @Test("Without a JWT key the application refuses to build")
    func refusesWithoutKey() async throws {
        let configuration = ServiceConfiguration(serviceName: "s", httpPort: 0)
        await #expect(throws: ServiceConfigurationError.missingJWTKey) {
            _ = try await CRMApplication(configuration: configuration) { _ in }
        }
    }
}

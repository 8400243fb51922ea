import Logging
import ServiceKit
import ServiceLifecycle

/// A service's background work (consumers, relay, schedulers) run in its own service group, so
/// a test can stop it gracefully (finish the batch, commit, leave the group) and start a new
/// one, as a process restart would, or run two side by side. `make` builds the application
/// with the environment it is given (each start gets its own free HTTP port).
public actor BackgroundInstance {
    public typealias Make = @Sendable (_ environment: [String: String]) async throws -> CRMApplication

    private let environment: [String: String]
    private let make: Make
    private let runner = ApplicationRunner()

    public init(environment: [String: String], make: @escaping Make) {
        self.environment = environment
        self.make = make
    }

    public func start() async throws {
        var environment = environment
        environment["CRM_HTTP_PORT"] = String(try freeLocalPort())
        await runner.start(try await make(environment))
    }

    public func stop() async { await runner.stop() }

    public func restart() async throws {
        await stop()
        try await start()
    }
}

/// Any service application run in the test process until stopped gracefully.
public actor ApplicationRunner {
    private var group: ServiceGroup?
    private var task: Task<Void, any Error>?

    public init() {}

    public func start(_ application: CRMApplication) {
        let group = ServiceGroup(configuration: .init(services: [application.application], logger: Logger(label: "test-instance")))
        self.group = group
        task = Task { try await group.run() }
    }

    public func stop() async {
        await group?.triggerGracefulShutdown()
        _ = try? await task?.value
        group = nil
        task = nil
    }
}

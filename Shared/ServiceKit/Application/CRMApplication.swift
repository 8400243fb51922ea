import Hummingbird
import Logging
import ServiceLifecycle

/// The HTTP side of a CRM service, wired the same way in every service: problem+json errors,
/// request metrics, bearer authentication, health and metrics endpoints — plus the service's
/// own routes and background services, all run under one signal-aware `ServiceGroup`.
///
/// ```swift
/// let configuration = try ServiceConfiguration(serviceName: "crm-events", defaultHTTPPort: 8082)
/// LoggingBootstrap.bootstrap(configuration: configuration)
/// let app = try await CRMApplication(
///     configuration: configuration,
///     readinessChecks: [ReadinessCheck("database") { try await pool.execute("SELECT 1") }],
///     services: [outboxRelay, consumer]
/// ) { router in
///     EventRoutes(store: store).register(on: router)
/// }
/// try await app.run()
/// ```
public struct CRMApplication: Sendable {
    public typealias HTTPApplication = Application<RouterResponder<CRMRequestContext>>

    public let configuration: ServiceConfiguration
    public let logger: Logger
    /// The Hummingbird application, background services included. Tests drive it without a
    /// socket: `try await app.application.test(.router) { client in ... }`.
    public let application: HTTPApplication
    /// Every route the router serves as `METHOD /path/{}` (parameter names blanked), for the
    /// test that holds them to the OpenAPI document (``OpenAPIDocument/operations``).
    public let routes: Set<String>

    /// - Parameters:
    ///   - publicPaths: path patterns served without a token besides health and metrics
    ///     (see ``PublicPaths``), e.g. `/v1/calendars/*/feed.ics`.
    ///   - services: run alongside the HTTP server; they start in this order and stop in reverse,
    ///     after the HTTP server has stopped taking requests.
    ///   - openAPI: the service's document, served at `GET /openapi.json` without a token.
    ///   - tokenVerifier: defaults to one built from `configuration`'s JWT settings.
    ///   - configureRouter: adds the service's routes; they sit behind all the shared middleware.
    public init(
        configuration: ServiceConfiguration,
        publicPaths: [String] = [],
        readinessChecks: [ReadinessCheck] = [],
        services: [any Service] = [],
        openAPI: OpenAPIDocument? = nil,
        tokenVerifier: TokenVerifier? = nil,
        logger: Logger? = nil,
        configureRouter: (Router<CRMRequestContext>) throws -> Void
    ) async throws {
        let logger = logger ?? Self.defaultLogger(for: configuration)
        let verifier: TokenVerifier
        if let tokenVerifier {
            verifier = tokenVerifier
        } else {
            verifier = try await TokenVerifier(configuration: configuration)
        }
        PrometheusMetrics.bootstrap()

        let router = Router(context: CRMRequestContext.self)
        // Router middleware wraps only routes added after it, so the order here is the order of
        // the chain: metrics see the final status, problems cover auth failures and unknown routes.
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ProblemMiddleware())
        router.add(middleware: BodyLimitMiddleware(maxBytes: configuration.maxRequestBodyBytes))
        let openPaths = publicPaths + (openAPI == nil ? [] : [OpenAPIRoute.path])
        router.add(middleware: AuthenticationMiddleware(verifier: verifier, publicPaths: PublicPaths(openPaths)))
        HealthRoutes(readinessChecks: readinessChecks).register(on: router)
        PrometheusMetrics.register(on: router)
        if let openAPI { OpenAPIRoute(document: openAPI).register(on: router) }
        try configureRouter(router)

        self.configuration = configuration
        self.logger = logger
        self.routes = Set(router.routes.map { "\($0.method) \(OpenAPIDocument.normalizedPath($0.path.description))" })
        self.application = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                serverName: configuration.serviceName),
            services: services,
            logger: logger)
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: the HTTP server stops taking
    /// requests first, then the background services stop in reverse order of `services`.
    public func run() async throws {
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: [application],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await serviceGroup.run()
    }

    private static func defaultLogger(for configuration: ServiceConfiguration) -> Logger {
        var logger = Logger(label: configuration.serviceName)
        logger.logLevel = configuration.logLevel
        return logger
    }
}

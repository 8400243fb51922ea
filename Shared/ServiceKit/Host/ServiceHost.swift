import Contracts
import Foundation
import Hummingbird
import Kafka
import Logging
import Messaging
import Postgres
import ServiceLifecycle

/// Everything a CRM service process needs besides its own domain, prepared in one place:
/// configuration, logging, its schema migrated (outbox and idempotency tables included), a
/// connection pool on that schema, the topics of TOPICS.md, an idempotent producer, the outbox
/// relay, and consumer runtimes — all run and stopped by one `CRMApplication`.
public struct ServiceHost: Sendable {
    public let configuration: ServiceConfiguration
    public let schema: String
    public let kafka: KafkaConfiguration
    public let pool: PostgresPool
    public let producer: KafkaProducer
    public let outbox: Outbox
    public let logger: Logger

    /// Reads the environment, migrates the schema and connects. Migrations named `0000_*` are
    /// reserved for the shared tables.
    public static func prepare(
        serviceName: String, schema: String, defaultHTTPPort: Int, migrations: [Migration],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> ServiceHost {
        let configuration = try ServiceConfiguration(
            serviceName: serviceName, defaultHTTPPort: defaultHTTPPort, environment: environment)
        LoggingBootstrap.bootstrap(configuration: configuration)
        // Before any relay or consumer creates its metrics, or they would get no-op handlers.
        PrometheusMetrics.bootstrap()
        var logger = Logger(label: serviceName)
        logger.logLevel = configuration.logLevel

        let kafka = KafkaConfiguration.fromEnvironment(environment, defaultBrokers: configuration.kafkaBrokers)
        try await Migrator(
            schema: schema, migrations: Outbox.migrations + IdempotentRequests.migrations + migrations,
            logger: logger
        ).apply(url: configuration.databaseURL)
        let pool = PostgresPool(
            .init(url: configuration.databaseURL, searchPath: schema, maxConnections: configuration.databasePoolSize,
                  applicationName: serviceName, session: configuration.sessionLimits),
            logger: logger)
        let topics = TopicCatalogue.specs(environment: environment)
        _ = try await TopicProvisioner.ensure(topics, configuration: kafka, logger: logger)
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        // So the relay's first messages after a start do not wait up to a second for the leaders.
        do {
            try await producer.prepare(topics: topics.map(\.name), timeout: .seconds(5))
        } catch {
            logger.warning("topic metadata not loaded ahead; the first messages may wait", metadata: ["error": "\(error)"])
        }
        return ServiceHost(
            configuration: configuration, schema: schema, kafka: kafka, pool: pool, producer: producer,
            outbox: Outbox(schema: schema, producerMessageMaxBytes: kafka.producerMessageMaxBytes), logger: logger)
    }

    /// `Idempotency-Key` handling with `CRM_IDEMPOTENCY_TTL_HOURS`, for the creating routes.
    public var idempotency: IdempotentRequests { IdempotentRequests(ttlHours: configuration.idempotencyTTLHours) }

    /// A consumer-group member of this service applying `topics` with `handler`.
    public func consumer(
        group: String? = nil, topics: [String], handler: any MessageHandler,
        configuration runtime: ConsumerRuntime.Configuration = .init()
    ) throws -> ConsumerRuntime {
        try consumers(group: group, topics: topics, handler: handler, members: 1, configuration: runtime)[0]
    }

    /// `members` members of one consumer group in this process, each applying its own
    /// partitions' batches in its own transaction, so one batch is read and built while another
    /// is written. They divide one consumer's prefetch budget (`queued.max.messages.kbytes`,
    /// the default or the configured one; at least 1 MB each), and a configured
    /// `group.instance.id` gets a `-<n>` suffix per member, since members sharing one would
    /// fence each other.
    public func consumers(
        group: String? = nil, topics: [String], handler: any MessageHandler, members: Int,
        configuration runtime: ConsumerRuntime.Configuration = .init()
    ) throws -> [ConsumerRuntime] {
        let groupID = group ?? configuration.serviceName
        let members = max(1, members)
        if members > 1, members + 2 > configuration.databasePoolSize {
            logger.warning("consumer members may wait for database sessions", metadata: [
                "group": "\(groupID)", "members": "\(members)", "poolSize": "\(configuration.databasePoolSize)",
            ])
        }
        return try (1...members).map { member in
            var kafka = kafka
            if members > 1 {
                let budget = kafka.properties["queued.max.messages.kbytes"].flatMap { Int($0) } ?? KafkaConsumer.defaultPrefetchKilobytes
                kafka.properties["queued.max.messages.kbytes"] = String(max(1024, budget / members))
                if let instance = kafka.properties["group.instance.id"] {
                    kafka.properties["group.instance.id"] = "\(instance)-\(member)"
                }
            }
            let make: @Sendable () throws -> KafkaConsumer = { [kafka, logger] in
                try KafkaConsumer(configuration: kafka, groupID: groupID, topics: topics, logger: logger)
            }
            return ConsumerRuntime(
                consumer: try make(), pool: pool, deadLetterProducer: producer, handler: handler,
                configuration: runtime, logger: logger, makeConsumer: make,
                healthName: members > 1 ? "consumer \(groupID) #\(member)" : nil)
        }
    }

    /// The HTTP application with the outbox relay and the given consumers (together, as one) as
    /// background services.
    /// On shutdown HTTP stops first, then the consumers finish their batch, then the relay, and
    /// last the producer is flushed and the pool closed.
    ///
    /// `extraServices` are a service's own background work (e.g. a reminder scheduler); they
    /// start after the relay and stop before it. `extraHealth` adds their health to readiness.
    ///
    /// `openAPI` is the service's document, served at `GET /openapi.json`.
    ///
    /// With `backgroundServices: false` the application only serves HTTP (its outbox rows wait for
    /// another instance's relay); tests use that to restart the background work on its own.
    public func application(
        consumers: [ConsumerRuntime] = [], publicPaths: [String] = [], readinessChecks: [ReadinessCheck] = [],
        extraServices: [any Service] = [], extraHealth: [ComponentHealth] = [],
        backgroundServices: Bool = true, openAPI: OpenAPIDocument? = nil,
        configureRouter: (Router<CRMRequestContext>) throws -> Void
    ) async throws -> CRMApplication {
        let relay = OutboxRelay(outbox: outbox, pool: pool, producer: producer, logger: logger)
        let database = ReadinessCheck("database") { [pool] in try await pool.execute("SELECT 1") }
        let pipeline = ReadinessCheck.pipeline(
            [relay.health] + consumers.map(\.health) + extraHealth,
            unhealthyAfter: TimeInterval(configuration.unhealthyAfterSeconds))
        let janitor = IdempotencyKeyJanitor(pool: pool, ttlHours: configuration.idempotencyTTLHours, logger: logger)
        let together: [any Service] = consumers.isEmpty ? [] : [ConsumersTogether(consumers: consumers)]
        let background: [any Service] = backgroundServices ? [relay, janitor] + extraServices + together : []
        let services: [any Service] = [ResourceCloser(producer: producer, pool: pool)] + background
        return try await CRMApplication(
            configuration: configuration, publicPaths: publicPaths, readinessChecks: [database, pipeline] + readinessChecks,
            services: services, openAPI: openAPI, logger: logger, configureRouter: configureRouter)
    }
}

extension ReadinessCheck {
    /// Fails, naming the component and its last error, when a background component has been
    /// failing for longer than `unhealthyAfter` seconds.
    public static func pipeline(_ components: [ComponentHealth], unhealthyAfter: TimeInterval) -> ReadinessCheck {
        ReadinessCheck("pipeline", exposesReason: true) {
            let failures = components.compactMap { $0.failure(longerThan: unhealthyAfter) }
            if !failures.isEmpty { throw PipelineUnhealthy(description: failures.joined(separator: "; ")) }
        }
    }
}

struct PipelineUnhealthy: Error, CustomStringConvertible {
    let description: String
}

/// Waits for graceful shutdown, then flushes the producer and closes the pool. Listed first
/// among the services, it stops last.
struct ResourceCloser: Service {
    let producer: KafkaProducer
    let pool: PostgresPool

    func run() async throws {
        try? await gracefulShutdown()
        await producer.close()
        await pool.close()
    }
}

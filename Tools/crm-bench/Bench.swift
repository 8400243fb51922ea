import ArgumentParser
import Contracts
import Foundation
import Kafka
import Logging
import Messaging
import Postgres

/// Throughput figures for the messaging runtime, each beside the raw ceiling measured in the
/// same run. Prints numbers; asserts nothing.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm-bench", abstract: "Benchmarks that print figures.",
        subcommands: [
            MessagingBench.self, HistoryBench.self, StructureBench.self, OrderBench.self, CalendarBench.self, ReportingBench.self,
            TelephonyBench.self, JSONBench.self,
        ])
}

struct MessagingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messaging",
        abstract: "Outbox → topic through the relay and topic → database through the consumer runtime.")

    @Option(help: "Messages per measurement.")
    var messages = 20_000

    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, then CRM_TEST_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Kafka bootstrap servers (default: an embedded cluster in this process).")
    var brokers: String?

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["CRM_DATABASE_URL"] ?? environment["CRM_TEST_DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or run `source .crm/env` after deploy/local/up")
        }
        let cluster = brokers == nil ? try EmbeddedKafkaCluster(brokers: 3) : nil
        let kafka = KafkaConfiguration(bootstrapServers: brokers ?? cluster!.bootstrapServers)
        let schema = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        try await Migrator(schema: schema, migrations: Outbox.migrations + [benchTable]).apply(url: url)
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 4))
        let run = BenchRun(messages: messages, kafka: kafka, cluster: cluster, pool: pool, schema: schema)

        print("crm-bench messaging: \(messages) messages, Kafka \(brokers.map { "at \($0)" } ?? "embedded, 3 brokers"), PostgreSQL at \(redacted(url))")
        let rawProduce = try await run.rawProduce()
        let relay = try await run.relayThroughput()
        let unpipelined = try await run.relayThroughput(maxBatchesInFlight: 1)
        report("outbox → topic (relay)", relay, ceiling: "raw librdkafka produce", rawProduce)
        print(line("relay, one batch in flight", unpipelined) + String(format: "  (%.0f%% of raw produce)", unpipelined / rawProduce * 100))
        let rawInsert = try await run.rawInserts()
        let rawConsume = try await run.rawConsume()
        let runtime = try await run.consumerRuntimeThroughput(setBased: false)
        report("topic → database (consumer runtime)", runtime, ceiling: "raw batched INSERTs", rawInsert)
        let setBased = try await run.consumerRuntimeThroughput(setBased: true)
        report("topic → database (set-based batch)", setBased, ceiling: "raw batched INSERTs", rawInsert)
        print(line("raw librdkafka consume", rawConsume))

        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
        await cluster?.shutdown()
    }

    private func report(_ name: String, _ value: Double, ceiling: String, _ ceilingValue: Double) {
        print(line(name, value))
        print(line(ceiling, ceilingValue) + String(format: "  (runtime reaches %.0f%%)", value / ceilingValue * 100))
    }

    private func line(_ name: String, _ value: Double) -> String {
        "  " + name.padding(toLength: 38, withPad: " ", startingAt: 0) + String(format: "%10.0f msg/s", value)
    }

    private func redacted(_ url: String) -> String {
        url.replacingOccurrences(of: #":[^:@/]+@"#, with: ":***@", options: .regularExpression)
    }

    private var benchTable: Migration {
        Migration(name: "0001_bench", sql: """
            CREATE TABLE bench_rows (id text PRIMARY KEY, body text NOT NULL, version bigint NOT NULL);
            CREATE TABLE raw_rows (id text PRIMARY KEY, body text NOT NULL, version bigint NOT NULL);
            """)
    }
}

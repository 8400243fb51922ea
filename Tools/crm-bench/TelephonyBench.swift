import ArgumentParser
import Contracts
import Foundation
import Kafka
import Logging
import Postgres

/// Call records through a running stack (`deploy/local/up`): creates its own counterparties and
/// employees through crm-attributes, publishes N calls to `crm.telephony.calls.v1` as a burst or
/// paced at `--rate`, and reports calls/s until the last event committed, publish → event /
/// calendar entry / report update percentiles, each service's RSS, and the raw ceiling of the
/// same rows written in batched statements. Prints figures; asserts nothing.
struct TelephonyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telephony",
        abstract: "Call records through a running stack: calls/s, publish → event / calendar / report latency, RSS.",
        discussion: """
            Settings not given as options come from the environment (`source .crm/env`) and then from \
            the stack's state directory that deploy/local/up writes (`--state-directory`, default .crm).
            """)

    @Option(help: "Call records to publish.")
    var calls = 10_000

    @Option(help: "Calls per second, paced evenly; without it the calls go out as one burst.")
    var rate: Double?

    @Option(help: "Calls sent through every hop first (at 100/s) and not counted, so that a fresh stack's consumer groups have joined and its connections are open; 0 skips.")
    var warmUp = 200

    @Option(help: "Counterparties to create, each with its own phone number.")
    var counterparties = 100

    @Option(help: "Employees to create, each with a phone extension.")
    var employees = 20

    @Option(help: "Share of missed calls in percent (each also makes a call-back event).")
    var missedPercent = 10

    @Option(help: "Kafka bootstrap servers (default: CRM_KAFKA_BROKERS).")
    var brokers: String?

    @Option(help: "The stack's PostgreSQL URL (default: CRM_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "crm-attributes base URL (default: CRM_ATTRIBUTES_URL, else http://127.0.0.1:8081).")
    var attributesURL: String?

    @Option(help: "The HS256 secret the services verify tokens with (default: CRM_JWT_SECRET).")
    var jwtSecret: String?

    @Option(help: "The stack's state directory: env file and service pids.")
    var stateDirectory = ".crm"

    @Option(help: "Seconds to wait for the pipeline to finish before reporting what arrived.")
    var timeout = 600

    @Flag(help: "Skip the raw ceiling (the same rows in batched INSERTs).")
    var skipCeiling = false

    func validate() throws {
        guard calls >= 1 else { throw ValidationError("--calls must be at least 1 (got \(calls))") }
        if let rate {
            guard rate.isFinite, rate > 0 else {
                throw ValidationError("--rate must be a positive number of calls per second (got \(rate)); omit it for a burst")
            }
        }
        guard warmUp >= 0 else { throw ValidationError("--warm-up must be 0 or more calls (got \(warmUp))") }
        guard (1...9_999).contains(counterparties) else {
            throw ValidationError("--counterparties must be between 1 and 9999 (got \(counterparties))")
        }
        guard (1...9_999).contains(employees) else {
            throw ValidationError("--employees must be between 1 and 9999 (got \(employees))")
        }
        guard (0...100).contains(missedPercent) else {
            throw ValidationError("--missed-percent must be between 0 and 100 (got \(missedPercent))")
        }
        guard timeout >= 1 else { throw ValidationError("--timeout must be at least 1 second (got \(timeout))") }
    }

    /// Explicit options first, then the process environment, then the state directory's env file.
    func settings(environment: [String: String], stateFile: [String: String]) throws -> TelephonyBenchSettings {
        func value(_ option: String?, _ variable: String) -> String? {
            for candidate in [option, environment[variable], stateFile[variable]] {
                if let candidate, !candidate.isEmpty { return candidate }
            }
            return nil
        }
        let hint = "run deploy/local/up, then `source .crm/env`, or pass"
        guard let brokers = value(brokers, "CRM_KAFKA_BROKERS") else {
            throw ValidationError("no Kafka brokers: \(hint) --brokers")
        }
        guard let databaseURL = value(databaseURL, "CRM_DATABASE_URL") else {
            throw ValidationError("no database: \(hint) --database-url")
        }
        guard databaseURL.hasPrefix("postgresql://") || databaseURL.hasPrefix("postgres://") else {
            throw ValidationError("--database-url must be a postgresql:// URL (got '\(databaseURL)')")
        }
        guard let secret = value(jwtSecret, "CRM_JWT_SECRET") else {
            throw ValidationError("no JWT secret: \(hint) --jwt-secret")
        }
        let attributes = try HTTPEndpoint(
            parsing: value(attributesURL, "CRM_ATTRIBUTES_URL") ?? "http://127.0.0.1:8081", option: "--attributes-url")
        return TelephonyBenchSettings(
            brokers: brokers, databaseURL: databaseURL, attributes: attributes, jwtSecret: secret,
            pidDirectory: (stateDirectory as NSString).appendingPathComponent("pids"))
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let stateFile = EnvFile.read((stateDirectory as NSString).appendingPathComponent("env"))
        let settings = try settings(environment: ProcessInfo.processInfo.environment, stateFile: stateFile)
        let run = TelephonyRun(
            calls: calls, rate: rate, missedPercent: missedPercent, settings: settings,
            timeout: .seconds(timeout))
        print("crm-bench telephony: \(calls) calls \(rate.map { String(format: "paced at %.0f/s", $0) } ?? "as one burst"), "
              + "\(counterparties) counterparties, \(employees) employees, \(missedPercent)% missed; Kafka at \(settings.brokers)")
        let people = try await StackFixtures(settings: settings).create(counterparties: counterparties, employees: employees)
        if warmUp > 0 { try await warm(people: people, settings: settings) }
        let result = try await run.measure(people: people)
        result.print(rate: rate)
        if !skipCeiling {
            let ceiling = try await TelephonyCeiling(databaseURL: settings.databaseURL).rowsPerSecond(rows: min(calls, 100_000))
            let ratio = result.callsPerSecond.map { String(format: " (ingest reaches %.0f%%)", $0 / ceiling * 100) } ?? ""
            print(String(format: "  raw ceiling: events + outbox rows in 500-row INSERTs, one transaction each: %.0f rows/s", ceiling) + ratio)
        }
    }
}

extension TelephonyBench {
    /// A fresh stack's consumer-group members join in its first seconds, with a rebalance that
    /// holds their partitions for seconds; calls published meanwhile would measure the start-up.
    private func warm(people: BenchPeople, settings: TelephonyBenchSettings) async throws {
        var run = TelephonyRun(calls: warmUp, rate: 100, missedPercent: missedPercent, settings: settings, timeout: .seconds(timeout))
        run.progress = false
        let started = ContinuousClock.now
        let result = try await run.measure(people: people)
        let seconds = (ContinuousClock.now - started).inSeconds
        if !result.isComplete {
            print(String(format: "  warm-up: %d calls did not all get through in %.1f s; measuring anyway", warmUp, seconds))
        } else {
            print(String(format: "  warm-up: %d calls through every hop in %.1f s (not counted)", warmUp, seconds))
        }
    }
}

/// Where the bench finds the stack.
struct TelephonyBenchSettings: Equatable {
    var brokers: String
    var databaseURL: String
    var attributes: HTTPEndpoint
    var jwtSecret: String
    var pidDirectory: String
}

/// `http://host:port` of a service.
struct HTTPEndpoint: Equatable {
    var host: String
    var port: Int

    init(parsing text: String, option: String) throws {
        guard let components = URLComponents(string: text), components.scheme == "http",
              let host = components.host, !host.isEmpty
        else {
            throw ValidationError("\(option) must be an http://host:port URL (got '\(text)')")
        }
        guard components.path.isEmpty || components.path == "/" else {
            throw ValidationError("\(option) must be a base URL without a path (got '\(text)')")
        }
        self.host = host
        port = components.port ?? 80
    }
}

/// Reads the `export NAME='value'` lines deploy/local/up writes to `.crm/env`; a missing file
/// reads as empty.
enum EnvFile {
    static func read(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        return parse(text)
    }

    static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            var statement = line.trimmingCharacters(in: .whitespaces)
            guard statement.hasPrefix("export ") else { continue }
            statement.removeFirst("export ".count)
            guard let equals = statement.firstIndex(of: "=") else { continue }
            let name = String(statement[..<equals])
            var value = String(statement[statement.index(after: equals)...])
            // shell_quote writes 'text' with each ' as '\''.
            if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "'\\''", with: "'")
            }
            values[name] = value
        }
        return values
    }
}

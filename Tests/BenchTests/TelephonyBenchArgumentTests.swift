import ArgumentParser
import Testing

@testable import crm_bench

/// `crm-bench telephony` refuses bad input with a message that names the option, before it
/// touches the stack.
@Suite("crm-bench telephony arguments")
struct TelephonyBenchArgumentTests {
    private let stack: [String: String] = [
        "CRM_KAFKA_BROKERS": "127.0.0.1:9092",
        "CRM_DATABASE_URL": "postgresql://postgres@127.0.0.1:55432/crm",
        "CRM_JWT_SECRET": String(repeating: "s", count: 32),
        "CRM_ATTRIBUTES_URL": "http://127.0.0.1:8081",
    ]

    /// The message ArgumentParser prints for `arguments`, or nil when they are accepted.
    private func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try TelephonyBench.parse(arguments)
            return nil
        } catch {
            return TelephonyBench.message(for: error)
        }
    }

    @Test("bad numbers are refused with the option's name", arguments: [
        (["--calls", "0"], "--calls"),
        (["--calls", "-5"], "--calls"),
        (["--calls", "many"], "--calls"),
        (["--rate", "0"], "--rate"),
        (["--rate", "-10"], "--rate"),
        (["--rate", "nan"], "--rate"),
        (["--rate", "fast"], "--rate"),
        (["--counterparties", "0"], "--counterparties"),
        (["--employees", "10000"], "--employees"),
        (["--missed-percent", "101"], "--missed-percent"),
        (["--timeout", "0"], "--timeout"),
        (["--warm-up", "-1"], "--warm-up"),
        (["--warm-up", "some"], "--warm-up"),
        (["--no-such-option"], "--no-such-option"),
    ])
    func badNumbers(arguments: [String], option: String) {
        let message = refusal(arguments)
        #expect(message?.contains(option) == true, "\(arguments) → \(message ?? "accepted")")
    }

    @Test("good arguments parse; settings come from options, then the environment, then .crm/env")
    func goodArguments() throws {
        #expect(refusal(["--calls", "100000", "--rate", "200", "--missed-percent", "0"]) == nil)
        #expect(refusal(["--warm-up", "0"]) == nil)
        #expect(try TelephonyBench.parse([]).warmUp == 200)
        let bench = try TelephonyBench.parse(["--brokers", "127.0.0.1:1111"])
        let settings = try bench.settings(environment: [:], stateFile: stack)
        #expect(settings.brokers == "127.0.0.1:1111")
        #expect(settings.databaseURL == stack["CRM_DATABASE_URL"])
        #expect(try settings.attributes == HTTPEndpoint(parsing: "http://127.0.0.1:8081", option: "x"))
        let fromEnvironment = try bench.settings(environment: ["CRM_DATABASE_URL": "postgresql://other/crm"], stateFile: stack)
        #expect(fromEnvironment.databaseURL == "postgresql://other/crm")
    }

    @Test("a missing or malformed stack setting is named, with what to do about it", arguments: [
        ("CRM_KAFKA_BROKERS", nil, "--brokers"),
        ("CRM_DATABASE_URL", nil, "--database-url"),
        ("CRM_DATABASE_URL", "mysql://db/crm", "--database-url"),
        ("CRM_JWT_SECRET", nil, "--jwt-secret"),
        ("CRM_ATTRIBUTES_URL", "https://127.0.0.1:8081", "--attributes-url"),
        ("CRM_ATTRIBUTES_URL", "127.0.0.1:8081", "--attributes-url"),
        ("CRM_ATTRIBUTES_URL", "http://127.0.0.1:8081/v1", "--attributes-url"),
    ] as [(String, String?, String)])
    func badStackSettings(variable: String, value: String?, option: String) throws {
        var environment = stack
        environment[variable] = value
        let bench = try TelephonyBench.parse([])
        let error = #expect(throws: ValidationError.self) {
            _ = try bench.settings(environment: environment, stateFile: [:])
        }
        #expect(error?.message.contains(option) == true, "\(variable)=\(value ?? "unset") → \(error?.message ?? "accepted")")
    }

    @Test("the env file deploy/local/up writes is read back, quotes and all")
    func envFile() {
        let values = EnvFile.parse("""
            # Written by deploy/local/up; source it to talk to the local stack.
            export CRM_DATABASE_URL='postgresql://postgres@127.0.0.1:55432/crm'
            export CRM_JWT_SECRET='it'\\''s a secret'
            not an export line
            """)
        #expect(values["CRM_DATABASE_URL"] == "postgresql://postgres@127.0.0.1:55432/crm")
        #expect(values["CRM_JWT_SECRET"] == "it's a secret")
        #expect(values.count == 2)
    }
}

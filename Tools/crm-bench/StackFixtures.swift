import ArgumentParser
import CalendarService
import Events
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import ServiceKit

/// The counterparties (with phones) and employees (with extensions) the calls refer to.
struct BenchPeople: Sendable {
    /// E.164 numbers, one per counterparty.
    var phones: [String]
    var extensions: [String]
}

/// Creates the bench's own people through crm-attributes' HTTP API, like an operator would, and
/// waits until crm-events (and crm-calendar, where it runs) have them in their projections, so
/// that the calls match from the first one.
struct StackFixtures {
    let settings: TelephonyBenchSettings

    func create(counterparties: Int, employees: Int) async throws -> BenchPeople {
        let token = try await TokenIssuer(hmacSecret: settings.jwtSecret)
            .sign(subject: "crm-bench", roles: [Role.admin], timeToLive: 24 * 3600)
        // Numbers of this run: +1 555 <3 digits of the run> <4 digits>; extensions 7<run><n>.
        let run = Int.random(in: 100...999)
        let phones = (0..<counterparties).map { "+1555\(run)\(String(format: "%04d", $0))" }
        let extensions = (0..<employees).map { "7\(run)\(String(format: "%04d", $0))" }
        let endpoint = settings.attributes
        let start = ContinuousClock.now
        let ids = try await TestClient.withClient(host: endpoint.host, port: endpoint.port) { client in
            var counterpartyIDs: [UUID] = []
            for (index, phone) in phones.enumerated() {
                counterpartyIDs.append(try await Self.post(client, "/v1/counterparties", token: token, body: [
                    "name": "Bench counterparty \(run)-\(index)", "phones": [phone],
                ]))
            }
            var employeeIDs: [UUID] = []
            for (index, phoneExtension) in extensions.enumerated() {
                employeeIDs.append(try await Self.post(client, "/v1/employees", token: token, body: [
                    "name": "Bench employee \(run)-\(index)", "phoneExtension": phoneExtension,
                ]))
            }
            return (counterpartyIDs, employeeIDs)
        }
        try await waitForProjections(counterparties: ids.0, employees: ids.1)
        print(String(format: "  created %d counterparties and %d employees through crm-attributes in %.1f s (projections included)",
                     counterparties, employees, (ContinuousClock.now - start).inSeconds))
        return BenchPeople(phones: phones, extensions: extensions)
    }

    private static func post(_ client: TestClient, _ path: String, token: String, body: [String: Any]) async throws -> UUID {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/json"
        let data = try JSONSerialization.data(withJSONObject: body)
        let response = try await client.post(path, headers: headers, body: ByteBuffer(bytes: data))
        let text = response.body.map { String(buffer: $0) } ?? ""
        guard response.status == .created else {
            throw ValidationError("POST \(path) answered \(response.status.code): \(text)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let id = (object["id"] as? String).flatMap(UUID.init(uuidString:))
        else {
            throw ValidationError("POST \(path) answered without an id: \(text)")
        }
        return id
    }

    /// Polls the consuming services' projection tables until every created id is there.
    private func waitForProjections(counterparties: [UUID], employees: [UUID]) async throws {
        let pool = PostgresPool(.init(url: settings.databaseURL, maxConnections: 1))
        do {
            try await waitForProjections(counterparties: counterparties, employees: employees, pool: pool)
            await pool.close()
        } catch {
            await pool.close()
            throw error
        }
    }

    private func waitForProjections(counterparties: [UUID], employees: [UUID], pool: PostgresPool) async throws {
        var waits: [(what: String, query: PostgresQuery, expected: Int)] = [
            ("crm-events counterparties", "SELECT count(*) AS n FROM \(identifier: EventsService.schema).counterparties WHERE id = ANY(\(counterparties))", counterparties.count),
            ("crm-events employees", "SELECT count(*) AS n FROM \(identifier: EventsService.schema).employees WHERE id = ANY(\(employees))", employees.count),
        ]
        if try await TableProbe.exists("\(CalendarService.schema).employees", in: pool) {
            waits.append(("crm-calendar employees", "SELECT count(*) AS n FROM \(identifier: CalendarService.schema).employees WHERE id = ANY(\(employees))", employees.count))
        }
        let deadline = ContinuousClock.now + .seconds(120)
        for wait in waits {
            while try await pool.query(wait.query)[0].decode("n", as: Int.self) < wait.expected {
                guard ContinuousClock.now < deadline else {
                    throw ValidationError("\(wait.what) did not arrive within 120 s: is the stack running and consuming?")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

enum TableProbe {
    /// Whether `schema.table` exists: the service that owns it has run against this database.
    static func exists(_ qualifiedName: String, in pool: PostgresPool) async throws -> Bool {
        try await pool.query("SELECT to_regclass(\(qualifiedName)) IS NOT NULL AS present")[0].decode("present", as: Bool.self)
    }
}

extension Duration {
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

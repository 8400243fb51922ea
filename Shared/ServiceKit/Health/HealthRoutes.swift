import Hummingbird
import Logging

/// `GET /health/live` and `GET /health/ready`, both public.
struct HealthRoutes: Sendable {
    let readinessChecks: [ReadinessCheck]

    struct CheckResult: Encodable, Sendable {
        var name: String
        var status: String
        var reason: String?
    }

    struct HealthReport: ResponseEncodable, Sendable {
        var status: String
        var checks: [CheckResult]?
    }

    func register(on router: Router<CRMRequestContext>) {
        router.get("/health/live") { _, _ in
            // Alive means the process answers; dependencies are readiness' business.
            HealthReport(status: "ok", checks: nil)
        }
        router.get("/health/ready") { request, context in
            try await readiness(request: request, context: context)
        }
    }

    private func readiness(request: Request, context: CRMRequestContext) async throws -> Response {
        let failures = await withTaskGroup(of: (Int, (any Error)?).self) { group in
            for (index, check) in readinessChecks.enumerated() {
                group.addTask { (index, await check.run()) }
            }
            var failures: [Int: any Error] = [:]
            for await (index, error) in group {
                if let error { failures[index] = error }
            }
            return failures
        }

        let results = readinessChecks.enumerated().map { index, check in
            CheckResult(
                name: check.name, status: failures[index] == nil ? "ok" : "failed",
                reason: check.exposesReason ? failures[index].map { "\($0)" } : nil)
        }
        for (index, error) in failures.sorted(by: { $0.key < $1.key }) {
            // Reasons go to the log only: the probe is public.
            context.logger.warning(
                "Readiness check failed",
                metadata: ["check": "\(readinessChecks[index].name)", "error": "\(String(reflecting: error))"])
        }

        let report = HealthReport(status: failures.isEmpty ? "ok" : "unavailable", checks: results)
        var response = try report.response(from: request, context: context)
        response.status = failures.isEmpty ? .ok : .serviceUnavailable
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

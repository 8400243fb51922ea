import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceKit

/// A small service built with the real `CRMApplication`, with routes that exercise each helper.
enum TestApplication {
    static let secret = "servicekit-tests-hs256-secret-0123456789"
    static let issuer = "https://auth.crm.test"
    static let feedPattern = "/v1/calendars/*/feed.ics"

    static func configuration(issuer: String? = Self.issuer) -> ServiceConfiguration {
        ServiceConfiguration(serviceName: "servicekit-tests", httpPort: 0, jwtSecret: secret, jwtIssuer: issuer)
    }

    static func make(
        readinessChecks: [ReadinessCheck] = [],
        tokenVerifier: TokenVerifier? = nil
    ) async throws -> CRMApplication {
        try await CRMApplication(
            configuration: configuration(),
            publicPaths: [feedPattern],
            readinessChecks: readinessChecks,
            tokenVerifier: tokenVerifier,
            logger: quietLogger
        ) { router in
            WidgetRoutes().register(on: router)
        }
    }

    /// A token the test application accepts, unless the arguments say otherwise.
    static func token(
        _ roles: Set<Role>,
        subject: String = "employee-1",
        timeToLive: TimeInterval = 600,
        issuer: String? = Self.issuer,
        secret: String = Self.secret
    ) async throws -> String {
        try await TokenIssuer(hmacSecret: secret).sign(
            subject: subject, roles: roles, timeToLive: timeToLive, issuer: issuer)
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)"]
    }

    static func json(_ text: String) -> ByteBuffer {
        ByteBuffer(string: text)
    }

    /// Errors the tests provoke on purpose would otherwise flood the test output.
    private static let quietLogger: Logger = {
        var logger = Logger(label: "servicekit-tests")
        logger.logLevel = .critical
        return logger
    }()
}

import Foundation
import Logging
import Postgres

/// What every service reads from its environment. Each variable is listed in the README.
public struct ServiceConfiguration: Sendable {
    public static let defaultHTTPHost = "127.0.0.1"
    /// The database `deploy/local/up` runs, so a service started by hand finds it.
    public static let defaultDatabaseURL = "postgresql://postgres@127.0.0.1:55432/crm"
    public static let defaultKafkaBrokers = "127.0.0.1:9092"

    /// Names the service in logs, metrics and the `Server` header.
    public var serviceName: String
    /// `CRM_HTTP_HOST`.
    public var httpHost: String
    /// `CRM_HTTP_PORT`; each service has its own default.
    public var httpPort: Int
    /// `CRM_DATABASE_URL`.
    public var databaseURL: String
    /// `CRM_KAFKA_BROKERS`: the bootstrap list, comma separated.
    public var kafkaBrokers: String
    /// `CRM_JWT_SECRET`: accept HS256 tokens signed with it.
    public var jwtSecret: String?
    /// `CRM_JWT_PUBLIC_KEY`: accept RS256 tokens signed by this key (the PEM text itself).
    public var jwtPublicKeyPEM: String?
    /// `CRM_JWT_ISSUER`: when set, a token must carry exactly this `iss`.
    public var jwtIssuer: String?
    /// `CRM_LOG_LEVEL`: trace, debug, info, notice, warning, error or critical.
    public var logLevel: Logger.Level
    /// `CRM_DATABASE_POOL_SIZE`: connections per service instance (default 10).
    public var databasePoolSize = 10
    /// `CRM_DEFAULT_COUNTRY_CODE`: the country of phone numbers written without one (default 7).
    public var defaultCountryCode = "7"
    /// `CRM_JWT_AUDIENCE`: when set, a token's `aud` must contain it.
    public var jwtAudience: String?
    /// `CRM_DATABASE_STATEMENT_TIMEOUT_MS` (default 30000) and `CRM_DATABASE_LOCK_TIMEOUT_MS`
    /// (default 10000): deadlines of every pooled database session; `CRM_DATABASE_KEEPALIVE_IDLE_SECONDS`
    /// (default 10): TCP keepalive idle time of those sessions.
    public var sessionLimits = SessionLimits()
    /// `CRM_HTTP_MAX_BODY_BYTES`: the largest request body any route accepts (default 1 MiB);
    /// larger ones get 413 before they are read.
    public var maxRequestBodyBytes = 1 << 20
    /// `CRM_IDEMPOTENCY_TTL_HOURS`: how long a stored `Idempotency-Key` response is replayed (default 24).
    public var idempotencyTTLHours = 24
    /// `CRM_UNHEALTHY_AFTER_SECONDS`: a consumer, the relay or the pool failing for longer than
    /// this makes `/health/ready` fail with the reason (default 60).
    public var unhealthyAfterSeconds = 60

    /// Builds a configuration directly, for tests and tools; nothing is read from the environment.
    public init(
        serviceName: String,
        httpHost: String = Self.defaultHTTPHost,
        httpPort: Int,
        databaseURL: String = Self.defaultDatabaseURL,
        kafkaBrokers: String = Self.defaultKafkaBrokers,
        jwtSecret: String? = nil,
        jwtPublicKeyPEM: String? = nil,
        jwtIssuer: String? = nil,
        logLevel: Logger.Level = .info
    ) {
        self.serviceName = serviceName
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.databaseURL = databaseURL
        self.kafkaBrokers = kafkaBrokers
        self.jwtSecret = jwtSecret
        self.jwtPublicKeyPEM = jwtPublicKeyPEM
        self.jwtIssuer = jwtIssuer
        self.logLevel = logLevel
    }

    /// Reads the `CRM_*` variables. An empty variable counts as unset, so `CRM_JWT_SECRET=` in an
    /// env file does not silently become an empty signing key.
    public init(
        serviceName: String,
        defaultHTTPPort: Int,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ServiceConfigurationError) {
        func value(_ name: String) -> String? {
            guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty
            else { return nil }
            return raw
        }

        var port = defaultHTTPPort
        if let text = value("CRM_HTTP_PORT") {
            guard let parsed = Int(text), (1...65_535).contains(parsed) else {
                throw .invalidValue(variable: "CRM_HTTP_PORT", value: text, expected: "a port number from 1 to 65535")
            }
            port = parsed
        }

        var level = Logger.Level.info
        if let text = value("CRM_LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidValue(variable: "CRM_LOG_LEVEL", value: text, expected: "one of \(names)")
            }
            level = parsed
        }

        var poolSize = 10
        if let text = value("CRM_DATABASE_POOL_SIZE") {
            guard let parsed = Int(text), (1...500).contains(parsed) else {
                throw .invalidValue(variable: "CRM_DATABASE_POOL_SIZE", value: text, expected: "a number of connections from 1 to 500")
            }
            poolSize = parsed
        }

        var countryCode = "7"
        if let text = value("CRM_DEFAULT_COUNTRY_CODE") {
            guard (1...3).contains(text.count), text.allSatisfy(\.isNumber) else {
                throw .invalidValue(variable: "CRM_DEFAULT_COUNTRY_CODE", value: text, expected: "1 to 3 digits, e.g. 7")
            }
            countryCode = text
        }

        let publicKey = try value("CRM_JWT_PUBLIC_KEY").map(Self.loadPublicKey)
        let secret = value("CRM_JWT_SECRET")
        guard secret != nil || publicKey != nil else { throw .missingJWTKey }
        if let secret { try Self.checkStrength(ofJWTSecret: secret) }

        func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>, unit: String) throws(ServiceConfigurationError) -> Int {
            guard let text = value(name) else { return fallback }
            guard let parsed = Int(text), range.contains(parsed) else {
                throw .invalidValue(variable: name, value: text, expected: "\(unit) from \(range.lowerBound) to \(range.upperBound)")
            }
            return parsed
        }
        let limits = SessionLimits(
            statementTimeoutMilliseconds: try integer(
                "CRM_DATABASE_STATEMENT_TIMEOUT_MS", default: 30_000, in: 0...3_600_000, unit: "milliseconds"),
            lockTimeoutMilliseconds: try integer(
                "CRM_DATABASE_LOCK_TIMEOUT_MS", default: 10_000, in: 0...3_600_000, unit: "milliseconds"),
            keepaliveIdleSeconds: try integer("CRM_DATABASE_KEEPALIVE_IDLE_SECONDS", default: 10, in: 1...7200, unit: "seconds"))
        let maxBody = try integer("CRM_HTTP_MAX_BODY_BYTES", default: 1 << 20, in: 1024...(64 << 20), unit: "bytes")
        let idempotencyTTL = try integer("CRM_IDEMPOTENCY_TTL_HOURS", default: 24, in: 1...(24 * 90), unit: "hours")
        let unhealthyAfter = try integer("CRM_UNHEALTHY_AFTER_SECONDS", default: 60, in: 1...86_400, unit: "seconds")

        self.init(
            serviceName: serviceName,
            httpHost: value("CRM_HTTP_HOST") ?? Self.defaultHTTPHost,
            httpPort: port,
            databaseURL: value("CRM_DATABASE_URL") ?? Self.defaultDatabaseURL,
            kafkaBrokers: value("CRM_KAFKA_BROKERS") ?? Self.defaultKafkaBrokers,
            jwtSecret: secret,
            jwtPublicKeyPEM: publicKey,
            jwtIssuer: value("CRM_JWT_ISSUER"),
            logLevel: level
        )
        databasePoolSize = poolSize
        defaultCountryCode = countryCode
        jwtAudience = value("CRM_JWT_AUDIENCE")
        sessionLimits = limits
        maxRequestBodyBytes = maxBody
        idempotencyTTLHours = idempotencyTTL
        unhealthyAfterSeconds = unhealthyAfter
    }

    /// HS256 needs a key at least as long as its hash (RFC 7518 §3.2); jwt-kit would trap on a shorter one.
    public static let minimumJWTSecretBytes = 32

    static func checkStrength(ofJWTSecret secret: String) throws(ServiceConfigurationError) {
        guard secret.utf8.count >= minimumJWTSecretBytes else {
            throw .jwtSecretTooShort(minimumBytes: minimumJWTSecretBytes)
        }
    }

    /// `CRM_JWT_PUBLIC_KEY` holds either the PEM itself or the path of a file holding it.
    private static func loadPublicKey(_ value: String) throws(ServiceConfigurationError) -> String {
        if value.contains("-----BEGIN") {
            // Env files often carry a PEM on one line with literal `\n` separators.
            return value.contains("\n") ? value : value.replacingOccurrences(of: "\\n", with: "\n")
        }
        do {
            return try String(contentsOfFile: value, encoding: .utf8)
        } catch {
            throw .unreadablePublicKeyFile(path: value, reason: error.localizedDescription)
        }
    }
}

/// A configuration the service cannot start with; the description says what to fix.
public enum ServiceConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingJWTKey
    case jwtSecretTooShort(minimumBytes: Int)
    case invalidValue(variable: String, value: String, expected: String)
    case unreadablePublicKeyFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingJWTKey:
            "Set CRM_JWT_SECRET (HS256) or CRM_JWT_PUBLIC_KEY (RS256, PEM text or a file path): "
                + "without one no bearer token can be verified."
        case .jwtSecretTooShort(let minimumBytes):
            // Never echo the secret itself.
            "CRM_JWT_SECRET is too short: HS256 needs at least \(minimumBytes) bytes, e.g. `openssl rand -hex 32`."
        case .invalidValue(let variable, let value, let expected):
            "\(variable)=\(value) is invalid: expected \(expected)."
        case .unreadablePublicKeyFile(let path, let reason):
            "CRM_JWT_PUBLIC_KEY names the file \(path), which cannot be read: \(reason)"
        }
    }
}

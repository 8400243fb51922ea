import CryptoExtras
import Foundation
import ServiceKit
import Testing

@Suite("Service configuration")
struct ServiceConfigurationTests {
    static let secret = "0123456789abcdef0123456789abcdef"

    @Test("Defaults apply when only a JWT secret is set")
    func defaults() throws {
        let configuration = try ServiceConfiguration(
            serviceName: "crm-events", defaultHTTPPort: 8082, environment: ["CRM_JWT_SECRET": Self.secret])
        #expect(configuration.serviceName == "crm-events")
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.httpPort == 8082)
        #expect(configuration.databaseURL == "postgresql://postgres@127.0.0.1:55432/crm")
        #expect(configuration.kafkaBrokers == "127.0.0.1:9092")
        #expect(configuration.jwtSecret == Self.secret)
        #expect(configuration.jwtPublicKeyPEM == nil)
        #expect(configuration.jwtIssuer == nil)
        #expect(configuration.logLevel == .info)
        #expect(configuration.databasePoolSize == 10)
        #expect(configuration.defaultCountryCode == "7")
    }

    @Test("Pool size and default country code are read")
    func poolSizeAndCountryCode() throws {
        let configuration = try ServiceConfiguration(
            serviceName: "crm-events", defaultHTTPPort: 8082,
            environment: ["CRM_JWT_SECRET": Self.secret, "CRM_DATABASE_POOL_SIZE": "25", "CRM_DEFAULT_COUNTRY_CODE": "49"])
        #expect(configuration.databasePoolSize == 25)
        #expect(configuration.defaultCountryCode == "49")
    }

    @Test("Every variable is read")
    func everyVariable() throws {
        let configuration = try ServiceConfiguration(
            serviceName: "crm-calendar", defaultHTTPPort: 8084,
            environment: [
                "CRM_HTTP_HOST": "0.0.0.0", "CRM_HTTP_PORT": "9000",
                "CRM_DATABASE_URL": "postgresql://crm@db:5432/crm", "CRM_KAFKA_BROKERS": "k1:9092,k2:9092",
                "CRM_JWT_SECRET": Self.secret, "CRM_JWT_ISSUER": "https://auth.example", "CRM_LOG_LEVEL": "DEBUG",
            ])
        #expect(configuration.httpHost == "0.0.0.0")
        #expect(configuration.httpPort == 9000)
        #expect(configuration.databaseURL == "postgresql://crm@db:5432/crm")
        #expect(configuration.kafkaBrokers == "k1:9092,k2:9092")
        #expect(configuration.jwtIssuer == "https://auth.example")
        #expect(configuration.logLevel == .debug)
    }

    @Test("Without a secret or a public key the error says what to set", arguments: [[:], ["CRM_JWT_SECRET": "", "CRM_JWT_PUBLIC_KEY": "  "]])
    func missingKey(environment: [String: String]) {
        #expect(throws: ServiceConfigurationError.missingJWTKey) {
            try ServiceConfiguration(serviceName: "s", defaultHTTPPort: 1, environment: environment)
        }
        #expect(ServiceConfigurationError.missingJWTKey.description.contains("CRM_JWT_SECRET"))
    }

    @Test("A secret shorter than 32 bytes is refused without being echoed")
    func shortSecret() {
        #expect(throws: ServiceConfigurationError.jwtSecretTooShort(minimumBytes: 32)) {
            try ServiceConfiguration(serviceName: "s", defaultHTTPPort: 1, environment: ["CRM_JWT_SECRET": "hunter2"])
        }
        #expect(!ServiceConfigurationError.jwtSecretTooShort(minimumBytes: 32).description.contains("hunter2"))
    }

    @Test("Bad port, log level, pool size and country code are refused", arguments: [
        ["CRM_HTTP_PORT": "http"], ["CRM_HTTP_PORT": "70000"], ["CRM_LOG_LEVEL": "loud"],
        ["CRM_DATABASE_POOL_SIZE": "0"], ["CRM_DATABASE_POOL_SIZE": "ten"], ["CRM_DEFAULT_COUNTRY_CODE": "+7"],
        ["CRM_DEFAULT_COUNTRY_CODE": "1234"],
    ])
    func badValues(extra: [String: String]) {
        let environment = extra.merging(["CRM_JWT_SECRET": Self.secret]) { $1 }
        #expect(throws: ServiceConfigurationError.self) {
            try ServiceConfiguration(serviceName: "s", defaultHTTPPort: 1, environment: environment)
        }
    }

    @Test("CRM_JWT_PUBLIC_KEY is PEM text (even with escaped newlines) or a file path")
    func publicKeySources() throws {
        let pem = try _RSA.Signing.PrivateKey(keySize: .bits2048).publicKey.pemRepresentation

        let inline = try ServiceConfiguration(serviceName: "s", defaultHTTPPort: 1, environment: ["CRM_JWT_PUBLIC_KEY": pem])
        #expect(inline.jwtPublicKeyPEM == pem.trimmingCharacters(in: .whitespacesAndNewlines))

        let escaped = pem.replacingOccurrences(of: "\n", with: "\\n")
        let fromEnvFile = try ServiceConfiguration(serviceName: "s", defaultHTTPPort: 1, environment: ["CRM_JWT_PUBLIC_KEY": escaped])
        #expect(fromEnvFile.jwtPublicKeyPEM == inline.jwtPublicKeyPEM)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("servicekit-\(UUID()).pem").path
        try pem.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try ServiceConfiguration(serviceName: "s", defaultHTTPPort: 1, environment: ["CRM_JWT_PUBLIC_KEY": path])
        #expect(fromFile.jwtPublicKeyPEM == pem)
    }

    @Test("A public key path that cannot be read is refused")
    func unreadableKeyFile() {
        #expect(throws: ServiceConfigurationError.self) {
            try ServiceConfiguration(
                serviceName: "s", defaultHTTPPort: 1, environment: ["CRM_JWT_PUBLIC_KEY": "/nonexistent/key.pem"])
        }
    }
}

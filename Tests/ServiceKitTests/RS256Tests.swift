import CryptoExtras
import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

/// RS256 with key pairs made in-process: no openssl, no key files in the repository.
@Suite("RS256 verification")
struct RS256Tests {
    struct KeyPair {
        let privatePEM: String
        let publicPEM: String

        static func generate() throws -> KeyPair {
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return KeyPair(privatePEM: key.pemRepresentation, publicPEM: key.publicKey.pemRepresentation)
        }
    }

    @Test("A token signed with the private key passes the public key's verifier, over HTTP too")
    func verifiesWithPublicKey() async throws {
        let keys = try KeyPair.generate()
        let verifier = try await TokenVerifier(hmacSecret: nil, rsaPublicKeyPEM: keys.publicPEM, issuer: TestApplication.issuer)
        let token = try await TokenIssuer(rsaPrivateKeyPEM: keys.privatePEM)
            .sign(subject: "employee-7", roles: [.manager], issuer: TestApplication.issuer)

        let principal = try await verifier.verify(token)
        #expect(principal == Principal(subject: "employee-7", roles: [.manager]))

        let app = try await TestApplication.make(tokenVerifier: verifier)
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/v1/whoami", method: .get, headers: TestApplication.bearer(token))
            #expect(response.status == .ok)
        }
    }

    @Test("A token signed with another private key is refused")
    func otherKeyRefused() async throws {
        let trusted = try KeyPair.generate()
        let attacker = try KeyPair.generate()
        let verifier = try await TokenVerifier(hmacSecret: nil, rsaPublicKeyPEM: trusted.publicPEM, issuer: nil)
        let token = try await TokenIssuer(rsaPrivateKeyPEM: attacker.privatePEM).sign(subject: "x", roles: [.admin])
        await #expect(throws: TokenVerificationError.invalidSignature) { try await verifier.verify(token) }
    }

    @Test("With only a public key configured, HS256 tokens are refused by algorithm")
    func hs256RefusedWhenOnlyRS256Configured() async throws {
        let keys = try KeyPair.generate()
        let verifier = try await TokenVerifier(hmacSecret: nil, rsaPublicKeyPEM: keys.publicPEM, issuer: nil)
        let token = try await TestApplication.token([.admin], issuer: nil)
        await #expect(throws: TokenVerificationError.unsupportedAlgorithm("HS256")) { try await verifier.verify(token) }
    }

    @Test("With both configured, each algorithm is checked with its own key")
    func bothAlgorithms() async throws {
        let keys = try KeyPair.generate()
        let verifier = try await TokenVerifier(
            hmacSecret: TestApplication.secret, rsaPublicKeyPEM: keys.publicPEM, issuer: nil)
        let rsaToken = try await TokenIssuer(rsaPrivateKeyPEM: keys.privatePEM).sign(subject: "rsa", roles: [.viewer])
        let hmacToken = try await TestApplication.token([.viewer], subject: "hmac", issuer: nil)
        #expect(try await verifier.verify(rsaToken).subject == "rsa")
        #expect(try await verifier.verify(hmacToken).subject == "hmac")
    }
}

@Suite("RS256 key configuration")
struct RS256KeyConfigurationTests {
    @Test("A public key that is not a PEM RSA key is a configuration error")
    func invalidPEM() async throws {
        await #expect(throws: ServiceConfigurationError.self) {
            _ = try await TokenVerifier(
                hmacSecret: nil, rsaPublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----", issuer: nil)
        }
    }
}

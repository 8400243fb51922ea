import Foundation
import JWTKit

/// Checks bearer tokens: HS256 with the shared secret and/or RS256 with the issuer's public key.
///
/// Each algorithm has its own key collection and the token's `alg` header picks one, so a token
/// can only ever be checked with the kind of key it claims; anything else is refused outright.
public struct TokenVerifier: Sendable {
    private let hmacKeys: JWTKeyCollection?
    private let rsaKeys: JWTKeyCollection?
    private let issuer: String?
    private let audience: String?

    public init(hmacSecret: String?, rsaPublicKeyPEM: String?, issuer: String?, audience: String? = nil) async throws {
        guard hmacSecret != nil || rsaPublicKeyPEM != nil else {
            throw ServiceConfigurationError.missingJWTKey
        }
        if let hmacSecret {
            try ServiceConfiguration.checkStrength(ofJWTSecret: hmacSecret)
            hmacKeys = await JWTKeyCollection().add(hmac: HMACKey(from: hmacSecret), digestAlgorithm: .sha256)
        } else {
            hmacKeys = nil
        }
        if let rsaPublicKeyPEM {
            let key: Insecure.RSA.PublicKey
            do {
                key = try Insecure.RSA.PublicKey(pem: rsaPublicKeyPEM)
            } catch {
                throw ServiceConfigurationError.invalidValue(
                    variable: "CRM_JWT_PUBLIC_KEY", value: "(the PEM given)",
                    expected: "an RSA public key of at least 2048 bits in PEM format (BEGIN PUBLIC KEY)")
            }
            rsaKeys = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256)
        } else {
            rsaKeys = nil
        }
        self.issuer = issuer
        self.audience = audience
    }

    public init(configuration: ServiceConfiguration) async throws {
        try await self.init(
            hmacSecret: configuration.jwtSecret,
            rsaPublicKeyPEM: configuration.jwtPublicKeyPEM,
            issuer: configuration.jwtIssuer,
            audience: configuration.jwtAudience)
    }

    /// Returns the caller named by a valid token; throws ``TokenVerificationError`` otherwise.
    public func verify(_ token: String) async throws(TokenVerificationError) -> Principal {
        let algorithm = try Self.algorithm(of: token)
        let keys: JWTKeyCollection?
        switch algorithm {
        case "HS256": keys = hmacKeys
        case "RS256": keys = rsaKeys
        default: keys = nil
        }
        guard let keys else { throw .unsupportedAlgorithm(algorithm) }

        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token, as: AccessTokenClaims.self)
        } catch {
            throw Self.reason(for: error)
        }
        if let issuer, claims.iss?.value != issuer {
            throw .untrustedIssuer
        }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw .wrongAudience
        }
        guard !claims.sub.value.isEmpty else { throw .missingSubject }
        return Principal(subject: claims.sub.value, roles: claims.knownRoles)
    }

    /// Reads `alg` from the token header before any key is chosen.
    private static func algorithm(of token: String) throws(TokenVerificationError) -> String {
        struct Header: Decodable { var alg: String }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
            let headerData = Base64URL.decode(String(parts[0])),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw .malformed }
        return header.alg
    }

    private static func reason(for error: any Error) -> TokenVerificationError {
        guard let jwtError = error as? JWTError else { return .malformed }
        switch jwtError.errorType {
        case .signatureVerificationFailed:
            return .invalidSignature
        case .claimVerificationFailure:
            switch jwtError.failedClaim {
            case is ExpirationClaim: return .expired
            case is NotBeforeClaim: return .notYetValid
            default: return .malformed
            }
        default:
            return .malformed
        }
    }
}

import Foundation
import JWTKit

/// Signs access tokens for development, the `crm` tool and tests. Production tokens come from
/// the organisation's identity provider; services only ever verify.
public struct TokenIssuer: Sendable {
    private let keys: JWTKeyCollection

    /// HS256 with the secret the services know as `CRM_JWT_SECRET` (at least 32 bytes).
    public init(hmacSecret: String) async throws {
        try ServiceConfiguration.checkStrength(ofJWTSecret: hmacSecret)
        keys = await JWTKeyCollection().add(hmac: HMACKey(from: hmacSecret), digestAlgorithm: .sha256)
    }

    /// RS256 with a PEM private key whose public half the services know as `CRM_JWT_PUBLIC_KEY`.
    public init(rsaPrivateKeyPEM: String) async throws {
        let key = try Insecure.RSA.PrivateKey(pem: rsaPrivateKeyPEM)
        keys = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256)
    }

    /// A token for `subject` with `roles`, valid for `timeToLive` seconds from `now`.
    /// A negative `timeToLive` makes an already expired token, which tests need.
    public func sign(
        subject: String,
        roles: some Sequence<Role>,
        timeToLive: TimeInterval = 3600,
        issuer: String? = nil,
        audience: String? = nil,
        now: Date = Date()
    ) async throws -> String {
        // Whole seconds: many JWT libraries reject a fractional NumericDate.
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: subject),
            exp: ExpirationClaim(value: issuedAt.addingTimeInterval(timeToLive.rounded(.down))),
            // Sorted so the same input always yields the same token.
            roles: Set(roles).map(\.rawValue).sorted(),
            iss: issuer.map { IssuerClaim(value: $0) },
            aud: audience.map { AudienceClaim(value: [$0]) },
            iat: IssuedAtClaim(value: issuedAt),
            nbf: nil
        )
        return try await keys.sign(claims)
    }
}

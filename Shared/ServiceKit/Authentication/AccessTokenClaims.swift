import Foundation
import JWTKit

/// The claims of a CRM access token: `sub`, `roles`, `exp`, and optionally `iss`, `iat`, `nbf`.
struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    /// Kept as text so a role this version does not know is ignored instead of failing the token.
    var roles: [String]?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var iat: IssuedAtClaim?
    var nbf: NotBeforeClaim?

    /// jwt-kit calls this after the signature checked out.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }

    var knownRoles: Set<Role> {
        Set((roles ?? []).compactMap(Role.init(rawValue:)))
    }
}

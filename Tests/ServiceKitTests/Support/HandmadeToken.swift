import Crypto
import Foundation

/// Builds JWTs byte by byte, for claims ServiceKit's own issuer would never produce.
enum HandmadeToken {
    static func hs256(claims: String, secret: String) async throws -> String {
        let header = Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8).base64URLForTests
        let payload = Data(claims.utf8).base64URLForTests
        let signingInput = "\(header).\(payload)"
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "\(signingInput).\(Data(signature).base64URLForTests)"
    }
}

extension Data {
    var base64URLForTests: String {
        base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

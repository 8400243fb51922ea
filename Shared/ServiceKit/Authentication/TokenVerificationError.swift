/// Why a bearer token was refused; the description is safe to show the client.
public enum TokenVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed
    case unsupportedAlgorithm(String)
    case invalidSignature
    case expired
    case notYetValid
    case untrustedIssuer
    case wrongAudience
    case missingSubject

    public var description: String {
        switch self {
        case .malformed: "The bearer token is malformed or lacks a required claim (sub, exp)."
        case .unsupportedAlgorithm(let algorithm): "The bearer token's algorithm \(algorithm) is not accepted."
        case .invalidSignature: "The bearer token's signature is invalid."
        case .expired: "The bearer token has expired."
        case .notYetValid: "The bearer token is not valid yet."
        case .untrustedIssuer: "The bearer token was not issued by a trusted issuer."
        case .wrongAudience: "The bearer token is not meant for this service (aud)."
        case .missingSubject: "The bearer token has no subject."
        }
    }
}

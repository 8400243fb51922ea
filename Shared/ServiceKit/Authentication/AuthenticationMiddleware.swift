import Foundation
import Hummingbird
import Logging

/// Requires a valid `Authorization: Bearer <JWT>` on every path that is not public and puts
/// the caller into ``CRMRequestContext/principal``.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = CRMRequestContext

    private let verifier: TokenVerifier
    private let publicPaths: PublicPaths

    public init(verifier: TokenVerifier, publicPaths: PublicPaths = PublicPaths()) {
        self.verifier = verifier
        self.publicPaths = publicPaths
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if publicPaths.contains(path: request.uri.path) {
            return try await next(request, context)
        }
        guard let token = Self.bearerToken(in: request) else {
            throw Problem.unauthorized("A bearer token is required (Authorization: Bearer <token>).")
        }
        let principal: Principal
        do {
            principal = try await verifier.verify(token)
        } catch {
            context.logger.debug("Bearer token refused", metadata: ["reason": "\(error)"])
            var problem = Problem.unauthorized(error.description)
            problem.headers[.wwwAuthenticate] = #"Bearer realm="crm", error="invalid_token""#
            throw problem
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "crm.subject"] = "\(principal.subject)"
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer` header; the scheme name is case-insensitive (RFC 9110).
    static func bearerToken(in request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}

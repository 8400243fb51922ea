import Contracts
import Foundation
import Hummingbird

/// The request context of every CRM service: Hummingbird's core storage plus the caller.
public struct CRMRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthenticationMiddleware``; nil only on public paths.
    public var principal: Principal?
    /// The largest body this request may have; set by ``BodyLimitMiddleware`` from
    /// `CRM_HTTP_MAX_BODY_BYTES`, lowered per route with ``limitBody(to:)``.
    public var maxBodyBytes = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
    }

    /// Every body collection (decoding included) stops here, so an oversized body is refused
    /// before it is held in memory.
    public var maxUploadSize: Int { maxBodyBytes }

    /// A route with a smaller budget than the service-wide one (e.g. a state change that takes
    /// only a reason) lowers it before reading the body.
    public mutating func limitBody(to bytes: Int) {
        maxBodyBytes = min(maxBodyBytes, bytes)
    }

    public var requestDecoder: CRMJSONRequestDecoder { CRMJSONRequestDecoder() }
    public var responseEncoder: JSONEncoder { CRMJSON.makeEncoder() }
}

// MARK: - Role guards

extension CRMRequestContext {
    /// The authenticated caller; 401 on a route that was left public by mistake.
    public func requirePrincipal() throws(Problem) -> Principal {
        guard let principal else { throw Problem.unauthorized() }
        return principal
    }

    /// The caller, if they hold at least one of `roles`; 403 otherwise.
    @discardableResult
    public func require(anyOf roles: Set<Role>) throws(Problem) -> Principal {
        let principal = try requirePrincipal()
        guard principal.hasAny(of: roles) else {
            let names = roles.map(\.rawValue).sorted().joined(separator: ", ")
            throw Problem.forbidden("This needs one of the roles: \(names).")
        }
        return principal
    }
}

import Hummingbird

/// Caps request bodies (DESIGN rule 9) and refuses NUL characters in query parameters: a declared `Content-Length` over the limit is a 413 at
/// once, and a body sent without one stops being collected at the limit (Hummingbird throws
/// 413 there, through ``CRMRequestContext/maxUploadSize``).
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = CRMRequestContext
    let maxBytes: Int

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBytes {
            throw Problem.payloadTooLarge(limit: maxBytes)
        }
        // Query parameters reach SQL as binds too; a NUL there would be cut just the same.
        var errors: [FieldError] = []
        for (name, value) in request.uri.queryParameters {
            NULCharacters.check(String(value), field: String(name), errors: &errors)
        }
        if !errors.isEmpty { throw Problem.unprocessable(errors: errors) }
        var context = context
        context.maxBodyBytes = maxBytes
        return try await next(request, context)
    }
}

extension Problem {
    /// 413 for a body over the service's limit.
    public static func payloadTooLarge(limit: Int) -> Problem {
        Problem(status: .contentTooLarge, detail: "The request body is larger than the limit of \(limit) bytes.")
    }
}

import Hummingbird
import Logging
import Messaging
import Postgres

/// Renders every error that escapes a handler as `application/problem+json`.
///
/// It sits outside the authentication middleware and wraps the router's not-found responder too,
/// so a 401, a 404 for an unknown route and a 500 all have the same shape.
public struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem(describing: error, request: request, context: context)
            if problem.status == .internalServerError {
                context.logger.error(
                    "Unhandled error",
                    metadata: [
                        "error": "\(String(reflecting: error))",
                        "http.method": "\(request.method)",
                        "http.path": "\(request.uri.path)",
                    ])
            }
            return try problem.response(from: request, context: context)
        }
    }
}

extension Problem {
    /// What the client is told about an error: its own words for the errors meant for clients,
    /// nothing at all about the others.
    init(describing error: any Error, request: Request, context: some RequestContext) {
        switch error {
        case let problem as Problem:
            self = problem
        case let decodingError as DecodingError:
            self.init(malformedJSON: decodingError)
        case let httpError as HTTPError:
            self.init(status: httpError.status, detail: httpError.body, headers: httpError.headers)
            if httpError.status == .notFound, context.endpointPath == "NotFound" {
                // Hummingbird's router marks the requests that matched no route this way.
                detail = "No route matches \(request.method) \(request.uri.path)."
            }
        case let responseError as any HTTPResponseError:
            self.init(status: responseError.status)
        case let tooLarge as OutboxMessageTooLarge:
            // Refused when written, so nothing reaches the relay that the broker would refuse.
            self = .unprocessable(
                errors: [FieldError(field: "body", message: tooLarge.description)],
                detail: "The object would be larger than a message may be (\(tooLarge.limit) bytes); shorten its text fields.")
        case let databaseError as PostgresError where databaseError.isTransient:
            // A conflict that outlived the retries, a lock or statement timeout, a lost
            // connection: the request may succeed when repeated, so say so instead of 500.
            var headers = HTTPFields()
            headers[.retryAfter] = "1"
            self.init(
                status: .serviceUnavailable,
                detail: "The database is busy or unreachable; nothing was changed. Retry the request.",
                headers: headers)
        case is CancellationError:
            self.init(status: .serviceUnavailable, detail: "The request was cancelled before it finished; nothing was changed.")
        default:
            self = .internalServerError()
        }
    }
}

import Contracts
import Foundation
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    /// Not in HTTPTypes' list of well-known names.
    public static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

/// Being an `HTTPResponseError` lets Hummingbird's router render a `Problem` even where the
/// ``ProblemMiddleware`` is not installed.
extension Problem: HTTPResponseError {
    public static let contentType = "application/problem+json"

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try CRMJSON.makeEncoder().encode(self)
        var headers = self.headers
        headers[.contentType] = Self.contentType
        headers[.contentLength] = String(body.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

import Hummingbird

/// `GET /openapi.json`: the service's OpenAPI document, public like health and metrics (a
/// client generator has no token yet).
struct OpenAPIRoute: Sendable {
    static let path = "/openapi.json"
    let document: OpenAPIDocument

    func register(on router: Router<CRMRequestContext>) {
        let body = ByteBuffer(bytes: document.json)
        router.get(RouterPath(Self.path)) { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.contentLength] = String(body.readableBytes)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
    }
}

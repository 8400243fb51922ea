import Foundation
import ServiceKit
import Testing

extension ServiceDriver {
    /// The hand-kept OpenAPI document and the router agree: every route the service registers
    /// is documented, and every documented operation is served. Reads the document the way a
    /// client does, from `GET /openapi.json` without a token.
    public func expectRoutesMatchOpenAPIDocument(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let response = try await request(.get, "/openapi.json", role: nil)
        #expect(response.status == 200, "GET /openapi.json answered \(response.status)", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        // JSON is YAML, so the service's own parser reads the served document back.
        let document = try OpenAPIDocument(yaml: response.text)
        let undocumented = routes.subtracting(document.operations).sorted()
        let unserved = document.operations.subtracting(routes).sorted()
        #expect(undocumented.isEmpty, "\(service) serves routes its OpenAPI document lacks: \(undocumented)", sourceLocation: sourceLocation)
        #expect(unserved.isEmpty, "\(service)'s OpenAPI document lists operations it does not serve: \(unserved)", sourceLocation: sourceLocation)
        #expect(routes.count > 4, "\(service) registered only \(routes.sorted())", sourceLocation: sourceLocation)
    }
}

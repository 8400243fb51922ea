import Testing
import TestSupport

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    @Test("Every registered route is documented in openapi.yaml and every documented operation is served")
    func routesMatchDocument() async throws {
        try await Harness.run { harness in
            try await harness.expectRoutesMatchOpenAPIDocument()
        }
    }
}

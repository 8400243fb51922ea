import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("OpenAPIDocument and GET /openapi.json")
struct OpenAPIDocumentTests {
    static let document = """
        openapi: 3.1.0
        info: {title: widgets, version: "1"}
        paths:
          /v1/widgets/{id}:
            parameters: [{name: id, in: path, required: true, schema: {type: string}}]
            get: {responses: {'200': {description: OK}}}
            patch: {responses: {'200': {description: OK}}}
          /openapi.json:
            get: {security: [], responses: {'200': {description: OK}}}
        components:
          schemas:
            Stamp: {type: string, examples: [2026-12-01T10:00:00Z, 2026-12-01]}
        """

    @Test("YAML becomes JSON with sorted keys; timestamps stay strings; operations use blank parameter names")
    func convertsYAML() throws {
        let document = try OpenAPIDocument(yaml: Self.document)
        let json = try #require(try JSONSerialization.jsonObject(with: document.json) as? [String: Any])
        #expect(json["openapi"] as? String == "3.1.0")
        let schemas = (json["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let examples = (schemas?["Stamp"] as? [String: Any])?["examples"] as? [String]
        #expect(examples == ["2026-12-01T10:00:00Z", "2026-12-01"])
        #expect(document.operations == ["GET /v1/widgets/{}", "PATCH /v1/widgets/{}", "GET /openapi.json"])
        #expect(String(decoding: document.json, as: UTF8.self).hasPrefix(#"{"components":"#))
    }

    @Test("Refuses what is not an OpenAPI 3.1 document, saying why", arguments: [
        ("", "empty"),
        ("openapi: 3.0.3\npaths: {}", "not an OpenAPI 3.1 document"),
        ("openapi: 3.1.0\ninfo: {title: x}", "not an OpenAPI 3.1 document"),
        ("openapi: 3.1.0\npaths: {}\nx-limit: .nan", "no JSON form"),
        ("openapi: 3.1.0\npaths: {}\nx-blob: !!binary aGVsbG8=", "no JSON form"),
        ("openapi: 3.1.0\npaths: {\n", ""),
    ])
    func refusesBadDocuments(yaml: String, reason: String) {
        do {
            _ = try OpenAPIDocument(yaml: yaml)
            Issue.record("accepted \(yaml.debugDescription)")
        } catch {
            #expect(reason.isEmpty || "\(error)".contains(reason), "\(error)")
        }
    }

    @Test("GET /openapi.json serves the document without a token; the routes are listed for the coverage test")
    func servedWithoutToken() async throws {
        let document = try OpenAPIDocument(yaml: Self.document)
        let app = try await CRMApplication(
            configuration: TestApplication.configuration(), openAPI: document
        ) { router in
            router.get("/v1/widgets/:id") { _, _ in "widget" }
        }
        #expect(app.routes.contains("GET /openapi.json"))
        #expect(app.routes.contains("GET /v1/widgets/{}"))
        #expect(app.routes.contains("GET /health/live"))
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(String(buffer: response.body) == String(decoding: document.json, as: UTF8.self))
            // Only the document is public, not what lies beside it.
            let widget = try await client.execute(uri: "/v1/widgets/1", method: .get)
            #expect(widget.status == .unauthorized)
        }
    }

    @Test("Without a document there is no /openapi.json")
    func absentWithoutDocument() async throws {
        let app = try await TestApplication.make()
        #expect(!app.routes.contains("GET /openapi.json"))
        try await app.application.test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .unauthorized)
        }
    }
}

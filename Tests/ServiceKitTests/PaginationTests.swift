import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

@Suite("Pagination")
struct PaginationTests {
    typealias Widget = WidgetRoutes.Widget

    private func list(_ query: String, on client: some TestClientProtocol) async throws -> TestResponse {
        let token = try await TestApplication.token([.viewer])
        return try await client.execute(uri: "/v1/widgets\(query)", method: .get, headers: TestApplication.bearer(token))
    }

    @Test("Without limit a page holds 50 items and a next cursor")
    func defaultLimit() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let page = try decodeJSON(Page<Widget>.self, from: try await list("", on: client))
            #expect(page.items.count == PageRequest.defaultLimit)
            #expect(page.nextCursor != nil)
        }
    }

    @Test("limit=500 is allowed")
    func maximumLimit() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let response = try await list("?limit=500", on: client)
            #expect(response.status == .ok)
            let page = try decodeJSON(Page<Widget>.self, from: response)
            #expect(page.items.count == WidgetRoutes.catalogSize)
            #expect(page.nextCursor == nil)
        }
    }

    @Test("A bad limit is a 422 naming limit", arguments: ["501", "0", "-1", "ten", "1.5", ""])
    func badLimit(limit: String) async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let problem = try expectProblem(try await list("?limit=\(limit)", on: client), status: .unprocessableContent)
            #expect(problem.errors.map(\.field) == ["limit"])
        }
    }

    @Test("Following nextCursor visits every item once, in order, and ends with an explicit null")
    func cursorRoundTrip() async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            var seen: [Int] = []
            var query = "?limit=50"
            var pages = 0
            while true {
                let response = try await list(query, on: client)
                let page = try decodeJSON(Page<Widget>.self, from: response)
                seen += page.items.map(\.id)
                pages += 1
                guard let cursor = page.nextCursor else {
                    #expect(bodyText(response).hasSuffix(#""nextCursor":null}"#))
                    break
                }
                query = "?limit=50&cursor=\(cursor)"
            }
            #expect(pages == 3)
            #expect(seen == Array(1...WidgetRoutes.catalogSize))
        }
    }

    @Test("A cursor we did not hand out is a 400 naming cursor", arguments: ["!!!", "bm90LWpzb24", "eyJvdGhlciI6MX0"])
    func badCursor(cursor: String) async throws {
        let app = try await TestApplication.make()
        try await app.application.test(.router) { client in
            let problem = try expectProblem(try await list("?cursor=\(cursor)", on: client), status: .badRequest)
            #expect(problem.errors.map(\.field) == ["cursor"])
        }
    }

    @Test("Cursors round-trip their position exactly, dates included")
    func cursorEncoding() throws {
        struct Position: Codable, Equatable {
            var startsAt: Date
            var id: String
        }
        let position = Position(startsAt: Date(timeIntervalSince1970: 1_796_109_302.123456), id: "a/b+c")
        let cursor = try Cursor.encode(position)
        #expect(cursor.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(try Cursor.decode(Position.self, from: cursor) == position)
    }

    @Test("PageRequest reads defaults and treats an empty cursor as the first page")
    func pageRequestDefaults() throws {
        #expect(try PageRequest(limit: nil, cursor: nil) == PageRequest(limit: 50, cursor: nil))
        #expect(try PageRequest(limit: "10", cursor: "") == PageRequest(limit: 10, cursor: nil))
    }

    @Test("A last page encodes nextCursor as null rather than leaving it out")
    func explicitNull() throws {
        let json = String(decoding: try CRMJSON.makeEncoder().encode(Page(items: [1, 2], nextCursor: nil)), as: UTF8.self)
        #expect(json == #"{"items":[1,2],"nextCursor":null}"#)
    }
}

import Contracts
import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceKit
import Testing

/// The body of a problem response as a client sees it.
struct ProblemBody: Decodable, Equatable {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var errors: [FieldError]
}

/// Checks the full problem+json shape — content type and every member — and returns the body.
@discardableResult
func expectProblem(
    _ response: TestResponse, status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation
) throws -> ProblemBody {
    #expect(response.status == status, sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    let data = Data(response.body.readableBytesView)
    let object = try #require(
        try JSONSerialization.jsonObject(with: data) as? [String: Any], sourceLocation: sourceLocation)
    for member in ["type", "title", "status", "detail", "errors"] {
        #expect(object[member] != nil, "problem lacks \(member)", sourceLocation: sourceLocation)
    }
    let problem = try JSONDecoder().decode(ProblemBody.self, from: data)
    #expect(problem.status == status.code, sourceLocation: sourceLocation)
    #expect(problem.type == "about:blank", sourceLocation: sourceLocation)
    #expect(!problem.title.isEmpty && !problem.detail.isEmpty, sourceLocation: sourceLocation)
    return problem
}

func decodeJSON<T: Decodable>(_ type: T.Type, from response: TestResponse) throws -> T {
    try CRMJSON.makeDecoder().decode(T.self, from: Data(response.body.readableBytesView))
}

func bodyText(_ response: TestResponse) -> String {
    String(buffer: response.body)
}

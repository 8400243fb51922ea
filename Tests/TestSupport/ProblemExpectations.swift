import Foundation
import Testing

/// True when an error's field path names `name`: `vip`, `values.vip`, `attributes.vip` and
/// `emails[0]` all name their last segment.
public func fieldMentions(_ path: String, _ name: String) -> Bool {
    if path == name { return true }
    return path.components(separatedBy: CharacterSet(charactersIn: ".[]\"'/")).contains(name)
}

/// Checks a problem+json response: status, content type, body `status`, and that `errors` names
/// every field in `fields`. Returns the field paths of `errors`.
@discardableResult
public func expectProblem(
    _ response: HarnessResponse, status: Int, fields: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
) -> [String] {
    #expect(
        response.status == status, "expected \(status), got \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    let contentType = response.headers[.contentType] ?? ""
    #expect(
        contentType.hasPrefix("application/problem+json"), "content-type was '\(contentType)'",
        sourceLocation: sourceLocation)
    let object = response.object
    #expect(object["status"] as? Int == status, "problem body: \(response.text)", sourceLocation: sourceLocation)
    let errorFields = (object["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }
    for field in fields {
        #expect(
            errorFields.contains { fieldMentions($0, field) },
            "errors \(errorFields) do not name '\(field)': \(response.text)", sourceLocation: sourceLocation)
    }
    return errorFields
}

/// A body whose member has the wrong JSON type: a decoder's 400 or a validation 422 are both
/// fine, as long as it is a problem naming `fields`.
@discardableResult
public func expectRejected(
    _ response: HarnessResponse, fields: [String], sourceLocation: SourceLocation = #_sourceLocation
) -> [String] {
    #expect(
        response.status == 400 || response.status == 422,
        "expected 400 or 422, got \(response.status): \(response.text)", sourceLocation: sourceLocation)
    return expectProblem(response, status: response.status, fields: fields, sourceLocation: sourceLocation)
}

/// Expects a status and reports the body when it is another.
public func expectStatus(_ response: HarnessResponse, _ expected: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        response.status == expected, "expected \(expected), got \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
}

import Contracts
import Foundation
import Hummingbird

/// Decodes request bodies with ``CRMJSON`` conventions and turns a bad body into a 400 ``Problem``
/// that names the offending field, instead of Hummingbird's plain-text `HTTPError`.
public struct CRMJSONRequestDecoder: RequestDecoder {
    public init() {}

    public func decode<T: Decodable>(
        _ type: T.Type, from request: Request, context: some RequestContext
    ) async throws -> T {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(body.readableBytesView)
        try NULCharacters.refuse(in: data)
        do {
            return try CRMJSON.makeDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Problem(malformedJSON: error)
        }
    }
}

/// PostgreSQL `text` cannot hold U+0000 and libpq's C strings would cut the value there, so a
/// NUL anywhere in a request is a 422 naming the member, never a silently shortened value.
public enum NULCharacters {
    /// Checks a JSON body. A NUL can only arrive as the escape `\u0000`, so bodies without that
    /// text (all ordinary ones) cost one byte scan; the rare others are parsed to name the member.
    public static func refuse(in json: Data) throws(Problem) {
        guard json.range(of: Data("u0000".utf8)) != nil,
            let value = try? CRMJSON.makeDecoder().decode(JSONValue.self, from: json)
        else { return }
        if let path = firstPath(in: value, at: "") {
            throw Problem.unprocessable(errors: [FieldError(field: path.isEmpty ? "body" : path, message: "must not contain NUL characters (U+0000)")])
        }
    }

    /// Checks one string from elsewhere (a query parameter, a header).
    public static func check(_ value: String, field: String, errors: inout [FieldError]) {
        if value.utf8.contains(0) { errors.append(FieldError(field: field, message: "must not contain NUL characters (U+0000)")) }
    }

    static func firstPath(in value: JSONValue, at path: String) -> String? {
        switch value {
        case .string(let text):
            return text.utf8.contains(0) ? path : nil
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = firstPath(in: item, at: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if key.utf8.contains(0) { return memberPath }
                if let found = firstPath(in: member, at: memberPath) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}

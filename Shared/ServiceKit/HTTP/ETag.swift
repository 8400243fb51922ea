import Hummingbird

/// Every object's `version` is its entity tag: `ETag: "7"`.
public enum ETag {
    public static func value(forVersion version: Int) -> String {
        "\"\(version)\""
    }
}

extension Response {
    public mutating func setETag(version: Int) {
        headers[.eTag] = ETag.value(forVersion: version)
    }
}

/// A JSON body answered with its version as `ETag`, e.g. `return VersionedResponse(event, version: event.version)`.
public struct VersionedResponse<Body: Encodable>: ResponseGenerator {
    public var body: Body
    public var version: Int
    public var status: HTTPResponse.Status

    public init(_ body: Body, version: Int, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.version = version
        self.status = status
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        response.setETag(version: version)
        return response
    }
}

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
        do {
            return try CRMJSON.makeDecoder().decode(T.self, from: Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw Problem(malformedJSON: error)
        }
    }
}

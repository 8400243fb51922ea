import Foundation

extension JSONValue {
    /// Any `Encodable` as a JSON value (through its JSON text, with the API's conventions).
    public init<T: Encodable>(encoding value: T) throws {
        self = try CRMJSONDecoder().decode(JSONValue.self, from: CRMJSONEncoder().encode(value))
    }

    /// This value read as a typed payload (through its JSON text, with the API's conventions).
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try CRMJSONDecoder().decode(type, from: CRMJSONEncoder().encode(self))
    }
}

import Foundation

extension JSONValue {
    /// Any `Encodable` as a JSON value (through its JSON text, with the API's conventions).
    public init<T: Encodable>(encoding value: T) throws {
        self = try CRMJSON.makeDecoder().decode(JSONValue.self, from: CRMJSON.makeEncoder().encode(value))
    }

    /// This value read as a typed payload (through its JSON text, with the API's conventions).
    public func decode<T: Decodable>(as type: T.Type) throws -> T {
        try CRMJSON.makeDecoder().decode(type, from: CRMJSON.makeEncoder().encode(self))
    }
}

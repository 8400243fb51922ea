import Contracts
import Postgres

extension PostgresJSON {
    /// `value` as CRMJSON writes it, by `CRMJSONEncoder` (outbox rows and headers, stored
    /// snapshots: the write paths every message takes).
    public init<T: Encodable>(crmEncoding value: T) throws {
        self.init(text: try CRMJSONEncoder().encodeText(value))
    }

    /// The value as CRMJSON reads it, by `CRMJSONDecoder`.
    public func crmDecode<T: Decodable>(_ type: T.Type) throws -> T {
        try CRMJSONDecoder().decode(type, from: text)
    }
}

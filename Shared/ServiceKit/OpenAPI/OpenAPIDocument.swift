import Contracts
import Foundation
import Synchronization
import Yams

/// A service's hand-kept OpenAPI 3.1 document (`Services/<Name>/Library/OpenAPI/openapi.yaml`,
/// bundled as a resource), converted once to the JSON that `GET /openapi.json` serves.
///
/// Hand-kept rather than generated (see docs/architecture.md): the route-coverage test compares
/// ``operations`` with the routes the router really has, and the conformance and fuzz checks
/// hold responses to the document.
public struct OpenAPIDocument: Sendable {
    /// The document as JSON, keys sorted so the bytes are stable between starts.
    public let json: Data
    /// Every documented operation as `METHOD /path/{}` (parameter names blanked), e.g.
    /// `PATCH /v1/events/{}`; compare with ``CRMApplication/routes``.
    public let operations: Set<String>

    /// Parses YAML text; throws when it is not a JSON-compatible mapping with `openapi` and `paths`.
    public init(yaml: String) throws {
        // Timestamps stay strings: a JSON document has no date type.
        guard let loaded = try Yams.load(yaml: yaml, Resolver.default.removing(.timestamp)) else {
            throw OpenAPIDocumentError("the document is empty")
        }
        let document = try Self.jsonValue(loaded, at: "$")
        guard let root = document.objectValue, root["openapi"]?.stringValue?.hasPrefix("3.1") == true,
            let paths = root["paths"]?.objectValue
        else {
            throw OpenAPIDocumentError("not an OpenAPI 3.1 document with paths")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        json = try encoder.encode(document)
        operations = Set(paths.flatMap { path, item in
            (item.objectValue ?? [:]).keys
                .filter { Self.httpMethods.contains($0) }
                .map { "\($0.uppercased()) \(Self.normalizedPath(path))" }
        })
    }

    /// Loads `OpenAPI/openapi.yaml` from a service library's resource bundle (`Bundle.module`),
    /// parsed once per process: the tests build hundreds of instances of each service.
    public init(resourceIn bundle: Bundle) throws {
        guard let url = bundle.url(forResource: "openapi", withExtension: "yaml", subdirectory: "OpenAPI") else {
            throw OpenAPIDocumentError("OpenAPI/openapi.yaml is missing from \(bundle.bundlePath)")
        }
        if let parsed = Self.parsed.withLock({ $0[url.path] }) {
            self = parsed
            return
        }
        try self.init(yaml: try String(contentsOf: url, encoding: .utf8))
        let document = self
        Self.parsed.withLock { $0[url.path] = document }
    }

    private static let parsed = Mutex<[String: OpenAPIDocument]>([:])

    static let httpMethods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// `/v1/events/{id}/cancel` → `/v1/events/{}/cancel`: the router and the document may name
    /// a parameter differently; what must agree is where parameters are.
    public static func normalizedPath(_ path: String) -> String {
        path.replacingOccurrences(of: #"\{[^}/]*\}"#, with: "{}", options: .regularExpression)
    }

    /// YAML's scalars, sequences and mappings as JSON; anything else (a binary, a non-string
    /// key, NaN) is an error naming where it is.
    private static func jsonValue(_ value: Any, at path: String) throws -> JSONValue {
        switch value {
        case is NSNull: return .null
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .number(Double(number))
        case let number as Double where number.isFinite: return .number(number)
        case let text as String: return .string(text)
        case let items as [Any]:
            return .array(try items.enumerated().map { try jsonValue($1, at: "\(path)[\($0)]") })
        case let mapping as [AnyHashable: Any]:
            var object: [String: JSONValue] = [:]
            for (key, item) in mapping {
                guard let name = key.base as? String else { throw OpenAPIDocumentError("a key at \(path) is not a string: \(key)") }
                object[name] = try jsonValue(item, at: "\(path).\(name)")
            }
            return .object(object)
        default:
            throw OpenAPIDocumentError("the value at \(path) has no JSON form: \(value)")
        }
    }
}

public struct OpenAPIDocumentError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "OpenAPI document: \(description)" }
}

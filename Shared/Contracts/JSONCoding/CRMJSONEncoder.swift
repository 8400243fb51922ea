import Foundation

/// Writes exactly the bytes of `CRMJSON.makeEncoder()` (sorted keys, unescaped slashes, dates as
/// RFC 3339), at a fraction of its cost: every published snapshot and stored JSON column goes
/// through here. Foundation's encoder keeps each object in a dictionary (hashing every key),
/// casts every value to look for its special types and sorts keys as generic collections; that
/// was a third of crm-events' CPU in a telephony burst. Here an object is two arrays, special
/// types are found by comparing type identities, and keys are sorted by their UTF-8 bytes, which
/// is the order Foundation writes.
///
/// Types whose JSON form Foundation decides (`Data`, `URL`, `Decimal`, non-finite numbers) are
/// handed to Foundation's encoder one value at a time, so their text is Foundation's by
/// construction. `ContractsTests` compare both encoders on every payload type.
public struct CRMJSONEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        // Whatever fails here (a value Foundation refuses, a value that encodes nothing, nesting
        // beyond Foundation's limit) is encoded by Foundation, whose error is then the one.
        guard let node = try? JSONTreeEncoder.node(of: value, at: .root) else {
            return Array(try CRMJSON.makeEncoder().encode(value))
        }
        var output = JSONOutput()
        output.bytes.reserveCapacity(1024)
        output.write(node, depth: 0)
        if output.tooDeep { return Array(try CRMJSON.makeEncoder().encode(value)) }
        return output.bytes
    }

    /// The JSON text as a `String`, for outbox payloads and `json` columns.
    public func encodeText<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }
}

/// One encoded value. Objects and arrays are classes because a container handed out by
/// `nestedContainer` keeps writing into them after its parent moved on.
enum JSONNode {
    case null
    case bool(Bool)
    /// A number's text as JSON writes it.
    case number(String)
    case string(String)
    /// Text Foundation's encoder wrote for a value of a type whose form it decides.
    case raw([UInt8])
    case object(JSONObjectNode)
    case array(JSONArrayNode)
    /// Filled by a `superEncoder` after its container handed it out.
    case deferred(JSONDeferredNode)
}

final class JSONObjectNode {
    var keys: [String] = []
    var values: [JSONNode] = []

    init() {
        keys.reserveCapacity(16)
        values.reserveCapacity(16)
    }
}

final class JSONArrayNode {
    var values: [JSONNode] = []
}

final class JSONDeferredNode {
    var node: JSONNode?
}

/// The `Encoder` handed to `encode(to:)`: it records the one value its caller encodes.
final class JSONTreeEncoder: Encoder {
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var node: JSONNode?

    init(path: JSONPath) {
        self.path = path
    }

    /// The node of one value: scalars and dates directly, everything else through its own
    /// `encode(to:)`. Nil when the value encoded nothing.
    static func node<T: Encodable>(of value: T, at path: @autoclosure () -> JSONPath) throws -> JSONNode? {
        // Type identity checks, not casts: `Array` and `Optional` encode every element through
        // here, so this runs for nearly every value.
        if T.self == String.self { return .string(unsafeBitCast(value, to: String.self)) }
        if T.self == Int.self { return .number(String(unsafeBitCast(value, to: Int.self))) }
        if T.self == Int64.self { return .number(String(unsafeBitCast(value, to: Int64.self))) }
        if T.self == Bool.self { return .bool(unsafeBitCast(value, to: Bool.self)) }
        if T.self == Date.self { return .string(RFC3339.string(from: unsafeBitCast(value, to: Date.self))) }
        if T.self == Double.self { return try number(unsafeBitCast(value, to: Double.self)) }
        // Optional members (`encode(x?, forKey:)` is generic) without an encoder each.
        if T.self == String?.self { return unsafeBitCast(value, to: String?.self).map { .string($0) } ?? .null }
        if T.self == Int?.self { return unsafeBitCast(value, to: Int?.self).map { .number(String($0)) } ?? .null }
        if T.self == Int64?.self { return unsafeBitCast(value, to: Int64?.self).map { .number(String($0)) } ?? .null }
        if T.self == Bool?.self { return unsafeBitCast(value, to: Bool?.self).map { .bool($0) } ?? .null }
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self || T.self == Float.self {
            return try foundation(value)
        }
        let encoder = JSONTreeEncoder(path: path())
        try value.encode(to: encoder)
        return encoder.node
    }

    /// Finite doubles as Swift prints them, without a trailing ".0" (Foundation's form);
    /// non-finite ones are refused (and the whole value then handed to Foundation, for its error).
    static func number(_ value: Double) throws -> JSONNode {
        guard value.isFinite else { throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "not finite")) }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }

    static func foundation<T: Encodable>(_ value: T) throws -> JSONNode {
        .raw(Array(try CRMJSON.makeEncoder().encode(value)))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: JSONObjectNode
        if case .object(let existing) = node {
            object = existing
        } else {
            object = JSONObjectNode()
            node = .object(object)
        }
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(object: object, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: JSONArrayNode
        if case .array(let existing) = node {
            array = existing
        } else {
            array = JSONArrayNode()
            node = .array(array)
        }
        return JSONUnkeyedContainer(array: array, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(encoder: self)
    }
}

/// A value that encoded nothing inside a container is written as `{}`, as Foundation does.
extension Optional where Wrapped == JSONNode {
    fileprivate var orEmptyObject: JSONNode { self ?? .object(JSONObjectNode()) }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: JSONObjectNode
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }

    private func add(_ node: JSONNode, _ key: Key) {
        object.keys.append(key.stringValue)
        object.values.append(node)
    }

    mutating func encodeNil(forKey key: Key) throws { add(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(.string(value), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { add(.number(String(value)), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        add(try JSONTreeEncoder.number(value), key)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        add(try JSONTreeEncoder.node(of: value, at: path.appending(key)).orEmptyObject, key)
    }

    /// A nested container asked for twice under one key writes into the same object or array,
    /// as Foundation's does.
    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: JSONObjectNode
        if let index = object.keys.lastIndex(of: key.stringValue), case .object(let existing) = object.values[index] {
            nested = existing
        } else {
            nested = JSONObjectNode()
            add(.object(nested), key)
        }
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(object: nested, path: path.appending(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: JSONArrayNode
        if let index = object.keys.lastIndex(of: key.stringValue), case .array(let existing) = object.values[index] {
            nested = existing
        } else {
            nested = JSONArrayNode()
            add(.array(nested), key)
        }
        return JSONUnkeyedContainer(array: nested, path: path.appending(key))
    }

    mutating func superEncoder() -> any Encoder {
        deferredEncoder(key: "super", path: path.appending(JSONCodingKey("super")))
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        deferredEncoder(key: key.stringValue, path: path.appending(key))
    }

    private func deferredEncoder(key: String, path: JSONPath) -> any Encoder {
        let slot = JSONDeferredNode()
        object.keys.append(key)
        object.values.append(.deferred(slot))
        return JSONDeferredEncoder(slot: slot, path: path)
    }
}

struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let array: JSONArrayNode
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }
    var count: Int { array.values.count }

    private var nextPath: JSONPath { path.appending(JSONCodingKey(index: array.values.count)) }

    mutating func encodeNil() throws { array.values.append(.null) }
    mutating func encode(_ value: Bool) throws { array.values.append(.bool(value)) }
    mutating func encode(_ value: String) throws { array.values.append(.string(value)) }
    mutating func encode(_ value: Int) throws { array.values.append(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { array.values.append(.number(String(value))) }
    mutating func encode(_ value: Double) throws { array.values.append(try JSONTreeEncoder.number(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        array.values.append(try JSONTreeEncoder.node(of: value, at: nextPath).orEmptyObject)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONObjectNode()
        let path = nextPath
        array.values.append(.object(nested))
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(object: nested, path: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArrayNode()
        let path = nextPath
        array.values.append(.array(nested))
        return JSONUnkeyedContainer(array: nested, path: path)
    }

    mutating func superEncoder() -> any Encoder {
        let slot = JSONDeferredNode()
        let path = nextPath
        array.values.append(.deferred(slot))
        return JSONDeferredEncoder(slot: slot, path: path)
    }
}

struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let encoder: JSONTreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.node = .null }
    mutating func encode(_ value: Bool) throws { encoder.node = .bool(value) }
    mutating func encode(_ value: String) throws { encoder.node = .string(value) }
    mutating func encode(_ value: Int) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: Int64) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: Double) throws { encoder.node = try JSONTreeEncoder.number(value) }
    mutating func encode(_ value: Float) throws { encoder.node = try JSONTreeEncoder.foundation(value) }
    // Every other integer width writes itself through one of these (the protocol's defaults
    // would send it back to the generic `encode`, and from there to `encode(to:)` again).
    mutating func encode(_ value: Int8) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: Int16) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: Int32) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: UInt) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.node = .number(String(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.node = .number(String(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try JSONTreeEncoder.node(of: value, at: encoder.path).orEmptyObject
    }
}

/// The encoder `superEncoder` returns: what it encodes fills the slot its container reserved.
final class JSONDeferredEncoder: Encoder {
    private let inner: JSONTreeEncoder
    private let slot: JSONDeferredNode

    init(slot: JSONDeferredNode, path: JSONPath) {
        self.slot = slot
        inner = JSONTreeEncoder(path: path)
    }

    deinit { slot.node = inner.node }

    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let container = inner.container(keyedBy: type)
        slot.node = inner.node
        return container
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let container = inner.unkeyedContainer()
        slot.node = inner.node
        return container
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONDeferredSingleValueContainer(inner: inner, slot: slot)
    }
}

/// Scalars written through a super encoder land in its slot at once.
struct JSONDeferredSingleValueContainer: SingleValueEncodingContainer {
    let inner: JSONTreeEncoder
    let slot: JSONDeferredNode
    var codingPath: [any CodingKey] { inner.codingPath }

    private func store(_ write: (inout JSONSingleValueContainer) throws -> Void) rethrows {
        var container = JSONSingleValueContainer(encoder: inner)
        try write(&container)
        slot.node = inner.node
    }

    mutating func encodeNil() throws { try store { try $0.encodeNil() } }
    mutating func encode(_ value: Bool) throws { try store { try $0.encode(value) } }
    mutating func encode(_ value: String) throws { try store { try $0.encode(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws { try store { try $0.encode(value) } }
}

/// Keys the coders make up themselves: array positions and `super`.
struct JSONCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String, intValue: Int? = nil) {
        stringValue = string
        self.intValue = intValue
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(index: intValue) }
}

/// A coding path as a chain to its parent: built for every nested value, turned into the
/// `[CodingKey]` of the protocols only when someone asks (an error, a custom `encode(to:)`).
indirect enum JSONPath {
    case root
    case key(any CodingKey, parent: JSONPath)

    func appending(_ key: some CodingKey) -> JSONPath {
        .key(key, parent: self)
    }

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var current = self
        while case .key(let key, let parent) = current {
            keys.append(key)
            current = parent
        }
        return keys.reversed()
    }
}

import Foundation

/// Decodes what `CRMJSON.makeDecoder()` decodes, to the same values, several times faster on
/// the consumers' hot path (every message of the event and document topics is decoded by three
/// services). It reads from a `JSONTape` instead of Foundation's scanner map and keyed-container
/// dictionaries.
///
/// Foundation stays the judge of everything unusual: when the text or a value is outside what
/// this decoder reads plainly (see `JSONTape`; numbers with an exponent, integers with a
/// fraction, objects over 64 members, reading past an array's end, `Data`, `URL`, `Decimal`,
/// `Float`), or when decoding throws at all, the text is decoded again
/// by Foundation's decoder and its value or error is the answer. Errors therefore read exactly as
/// before, and a type that catches an error to try another shape (`JSONValue`) cannot take a
/// different branch here than it would there.
public struct CRMJSONDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if let value = decodeWithoutFoundation(type, from: bytes) { return value }
        return try CRMJSON.makeDecoder().decode(type, from: Data(bytes))
    }

    public func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(type, from: Array(text.utf8))
    }

    /// The value, or nil where Foundation has to decide (tests check which path a text takes).
    func decodeWithoutFoundation<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        guard let tape = try? JSONTape(bytes) else { return nil }
        let document = JSONDocument(tape: tape)
        guard let value = try? JSONTapeDecoder(document: document, index: 0, path: .root).decode(type), !document.unsure else {
            return nil
        }
        return value
    }
}

/// The tape, and whether this decoder met something it leaves to Foundation. The flag is
/// shared by every nested decoder, so an answer swallowed by a `try?` still counts.
final class JSONDocument {
    let tape: JSONTape
    var unsure = false

    init(tape: JSONTape) { self.tape = tape }

    /// Marks the document for Foundation and throws to stop decoding.
    func giveUp() -> any Error {
        unsure = true
        return JSONTape.Invalid()
    }
}

struct JSONTapeDecoder: Decoder {
    let document: JSONDocument
    let index: Int
    /// The path of the container holding this value, and the value's key in it: joined only
    /// when a nested type or an error needs the path, not for every member read.
    let parentPath: JSONPath
    let key: (any CodingKey)?
    var path: JSONPath { key.map { parentPath.appending($0) } ?? parentPath }
    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(document: JSONDocument, index: Int, path: JSONPath, key: (any CodingKey)? = nil) {
        self.document = document
        self.index = index
        parentPath = path
        self.key = key
    }

    /// Member lookups scan the object: beyond this many members Foundation's dictionary is the
    /// better reader (a message with a huge object must not take quadratic time).
    static let largestScannedObject = 64

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let token = document.tape.tokens[index]
        guard token.kind == .object else { throw mismatch([String: Any].self) }
        guard token.count <= Self.largestScannedObject else { throw document.giveUp() }
        return KeyedDecodingContainer(JSONTapeKeyedContainer<Key>(document: document, object: index, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard document.tape.tokens[index].kind == .array else { throw mismatch([Any].self) }
        return JSONTapeUnkeyedContainer(document: document, array: index, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        JSONTapeSingleValueContainer(decoder: self)
    }

    /// Of the same kind as Foundation's error in the same place (a caller may tell them apart).
    func mismatch(_ type: Any.Type) -> DecodingError {
        let kind = document.tape.tokens[index].kind
        if kind == .null {
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(kind) instead."))
    }

    // MARK: Values

    func isNull() -> Bool { document.tape.tokens[index].kind == .null }

    func decodeBool() throws -> Bool {
        switch document.tape.tokens[index].kind {
        case .true: return true
        case .false: return false
        default: throw mismatch(Bool.self)
        }
    }

    func decodeString() throws -> String {
        guard document.tape.tokens[index].kind == .string else { throw mismatch(String.self) }
        return document.tape.string(at: index)
    }

    func decodeInteger<Integer: FixedWidthInteger>(_ type: Integer.Type) throws -> Integer {
        guard document.tape.tokens[index].kind == .number else { throw mismatch(type) }
        guard let value = document.tape.integer(at: index, as: type) else { throw document.giveUp() }
        return value
    }

    func decodeDouble() throws -> Double {
        guard document.tape.tokens[index].kind == .number else { throw mismatch(Double.self) }
        let text = document.tape.numberText(at: index)
        // Exponents are Foundation's to read: it refuses some (a nonzero number that rounds to
        // zero, some zeros with exponents) that Double(_:) takes.
        guard !text.contains(where: { $0 == "e" || $0 == "E" }), let value = Double(text), value.isFinite else {
            throw document.giveUp()
        }
        return value
    }

    /// Scalars and dates directly; other types through their own `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // Type identity checks, not casts: this runs for nearly every value.
        if T.self == String.self { return unsafeBitCast(try decodeString(), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decodeInteger(Int.self), to: T.self) }
        if T.self == Int64.self { return unsafeBitCast(try decodeInteger(Int64.self), to: T.self) }
        if T.self == Int32.self { return unsafeBitCast(try decodeInteger(Int32.self), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decodeBool(), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try decodeDouble(), to: T.self) }
        if T.self == Date.self {
            // CRMJSON's date strategy: RFC 3339 text, its error left to Foundation.
            guard let date = RFC3339.date(from: try decodeString()) else { throw document.giveUp() }
            return unsafeBitCast(date, to: T.self)
        }
        if T.self == UUID.self {
            guard let id = UUID(text: try decodeString()) else { throw document.giveUp() }
            return unsafeBitCast(id, to: T.self)
        }
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self || T.self == Float.self {
            throw document.giveUp()
        }
        if let integer = T.self as? any FixedWidthInteger.Type {
            return try decodeInteger(integer) as! T
        }
        return try T(from: key == nil ? self : JSONTapeDecoder(document: document, index: index, path: path))
    }
}

struct JSONTapeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let document: JSONDocument
    let object: Int
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }

    /// The index of a member's value; of a key written twice, the first (Foundation's choice).
    private func valueIndex(_ key: Key) -> Int? {
        document.tape.member(of: object, named: key.stringValue)
    }

    private func member(_ key: Key) throws -> JSONTapeDecoder {
        guard let index = valueIndex(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key)."))
        }
        return JSONTapeDecoder(document: document, index: index, path: path, key: key)
    }

    /// Each key once, as Foundation's keyed container (a dictionary) lists them.
    var allKeys: [Key] {
        let tape = document.tape
        var keys: [Key] = []
        var seen: Set<String> = []
        var keyIndex = object + 1
        for _ in 0..<tape.tokens[object].count {
            let text = tape.string(at: keyIndex)
            if seen.insert(text).inserted, let key = Key(stringValue: text) { keys.append(key) }
            keyIndex = Int(tape.tokens[keyIndex + 1].next)
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { valueIndex(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).isNull() }

    /// A null member reaches the type: `Optional` reads it as nil, scalars refuse it.
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try member(key).decode(type)
    }

    /// One lookup instead of the protocol default's three (contains, decodeNil, decode).
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let index = valueIndex(key) else { return nil }
        let member = JSONTapeDecoder(document: document, index: index, path: path, key: key)
        return member.isNull() ? nil : try member.decode(type)
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decode(type, forKey: key, generic: ()) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try decodeIfPresent(type, forKey: key, generic: ()) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decode(type, forKey: key, generic: ()) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try decodeIfPresent(type, forKey: key, generic: ()) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decode(type, forKey: key, generic: ()) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try decodeIfPresent(type, forKey: key, generic: ()) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decode(type, forKey: key, generic: ()) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try decodeIfPresent(type, forKey: key, generic: ()) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decode(type, forKey: key, generic: ()) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try decodeIfPresent(type, forKey: key, generic: ()) }

    /// The concrete requirements above route here (a call to `decode(_:forKey:)` from inside
    /// them would pick the concrete overload again).
    private func decode<T: Decodable>(_ type: T.Type, forKey key: Key, generic: Void) throws -> T {
        try member(key).decode(type)
    }

    private func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key, generic: Void) throws -> T? {
        guard let index = valueIndex(key) else { return nil }
        let member = JSONTapeDecoder(document: document, index: index, path: path, key: key)
        return member.isNull() ? nil : try member.decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }

    // Rare; Foundation's rules for an absent key are its own.
    func superDecoder() throws -> any Decoder { throw document.giveUp() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw document.giveUp() }
}

struct JSONTapeUnkeyedContainer: UnkeyedDecodingContainer {
    let document: JSONDocument
    let array: Int
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }
    private(set) var currentIndex = 0
    /// The token of the element at `currentIndex`.
    private var position: Int

    init(document: JSONDocument, array: Int, path: JSONPath) {
        self.document = document
        self.array = array
        self.path = path
        position = array + 1
    }

    var count: Int? { Int(document.tape.tokens[array].count) }
    var isAtEnd: Bool { currentIndex >= count! }

    /// The current element, read by `read`; the container moves on only when that succeeds
    /// (as Foundation's does: a caller may catch the error and read the element another way).
    private mutating func next<Value>(_ read: (JSONTapeDecoder) throws -> Value) throws -> Value {
        guard !isAtEnd else { throw document.giveUp() }  // Foundation's error for reading past the end
        let value = try read(JSONTapeDecoder(document: document, index: position, path: path, key: JSONCodingKey(index: currentIndex)))
        position = Int(document.tape.tokens[position].next)
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw document.giveUp() }
        guard document.tape.tokens[position].kind == .null else { return false }
        return try next { _ in true }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next { try $0.decode(type) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder { throw document.giveUp() }
}

struct JSONTapeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: JSONTapeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.isNull() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }

    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeDouble() }
    func decode(_ type: Float.Type) throws -> Float { throw decoder.document.giveUp() }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(type) }
}

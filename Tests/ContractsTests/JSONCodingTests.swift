@testable import Contracts
import Foundation
import Testing

/// `CRMJSONEncoder` and `CRMJSONDecoder` must be indistinguishable from CRMJSON's Foundation
/// coders: the same bytes out, the same values and errors in.
@Suite("CRM JSON coders agree with Foundation's")
struct JSONCodingTests {
    private func foundationText<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try CRMJSON.makeEncoder().encode(value), as: UTF8.self)
    }

    private func fastText<T: Encodable>(_ value: T) throws -> String {
        try CRMJSONEncoder().encodeText(value)
    }

    @Test("every payload sample is written byte for byte as Foundation writes it, and read back without Foundation")
    func payloadSamples() throws {
        let samples = try Samples.all()
        #expect(samples.count > 25)
        for sample in samples {
            let foundation = try sample.json()
            let (encoded, decodedAgain) = try sample.fastCoders()
            #expect(String(decoding: encoded, as: UTF8.self) == String(decoding: foundation, as: UTF8.self), "\(sample.name)")
            #expect(decodedAgain == foundation, "\(sample.name): not read back unchanged by the fast path")
        }
        let envelope = CloudEvent(source: "crm-events", type: "crm.event.created", subject: "x", version: 3, data: Samples.event())
        #expect(try fastText(envelope) == foundationText(envelope))
    }

    @Test("strings are escaped as Foundation escapes them: quotes, backslashes, control characters; slashes and non-ASCII as they are")
    func escaping() throws {
        var everyASCII = ""
        for byte in 0..<128 { everyASCII.unicodeScalars.append(Unicode.Scalar(UInt8(byte))) }
        let texts = [everyASCII, "é\u{2028}\u{2029}😀 Оценка", "", "\"", "\\", "a/b", "\u{0}"]
        for text in texts {
            #expect(try fastText([text]) == foundationText([text]))
            #expect(try CRMJSONDecoder().decode([String].self, from: fastText([text])) == [text])
        }
    }

    @Test("keys are sorted by their UTF-8 bytes; of a key written twice the last value is kept")
    func keyOrder() throws {
        let keys = ["b", "B", "a10", "a2", "_", "é", "z", "aa", "a", "Z", "ä", "a b", ""]
        let dictionary = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        #expect(try fastText(dictionary) == foundationText(dictionary))
        // Keys alike in their first eight bytes, which the coders compare first.
        let alike = ["createdAt": 1, "createdAtX": 2, "createdA": 3, "abcdefgh1": 4, "abcdefgh0": 5, "abcdefgh": 6, "abcdefg\u{0}": 7]
        let alikeText = try fastText(alike)
        #expect(alikeText == (try foundationText(alike)))
        #expect(CRMJSONDecoder().decodeWithoutFoundation([String: Int].self, from: Array(alikeText.utf8)) == alike)
        #expect(try fastText(Twice()) == foundationText(Twice()))
        #expect(try fastText(Twice()) == #"{"a":2,"b":1}"#)
    }

    @Test("numbers: integers of every width, doubles without a trailing .0, Decimal, Float; non-finite numbers refused")
    func numbers() throws {
        let doubles = [1.0, 0.1, 1e20, 1e21, -0.0, .pi, 1e-7, 123456789.0, 9.0e15, -2.5, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        #expect(try fastText(doubles) == foundationText(doubles))
        #expect(try fastText(Widths()) == foundationText(Widths()))
        #expect(try fastText([Int8.min, 0, Int8.max]) == foundationText([Int8.min, 0, Int8.max]))
        #expect(try fastText([UInt64.max, 0]) == foundationText([UInt64.max, 0]))
        #expect(try fastText(Int16(-7)) == "-7")
        #expect(try fastText([Decimal(string: "12.50")!, Decimal(-3)]) == foundationText([Decimal(string: "12.50")!, Decimal(-3)]))
        #expect(try fastText([Float(0.1), 1]) == foundationText([Float(0.1), 1]))
        #expect(throws: EncodingError.self) { try CRMJSONEncoder().encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try CRMJSONEncoder().encode(["x": Double.infinity]) }
        let values: [JSONValue] = [.number(3), .number(-0.5), .number(1e300), .null, .bool(false), .object(["k": .array([.string("v")])])]
        #expect(try fastText(values) == foundationText(values))
    }

    @Test("nested containers filled after their parent moved on, super encoders, empty values and dates")
    func containers() throws {
        #expect(try fastText(Nested()) == foundationText(Nested()))
        #expect(try fastText(WithSuper()) == foundationText(WithSuper()))
        #expect(try fastText(Holder()) == foundationText(Holder()))
        #expect(try fastText(Optional<Int>.none) == "null")
        let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_796_109_302.123)]
        #expect(try fastText(dates) == foundationText(dates))
        #expect(try fastText([Data([0, 1, 255]).base64EncodedString()]) == foundationText([Data([0, 1, 255]).base64EncodedString()]))
        #expect(try fastText(Data([0, 1, 255])) == foundationText(Data([0, 1, 255])))
        #expect(try fastText(URL(string: "https://crm.example/a?b=c")!) == foundationText(URL(string: "https://crm.example/a?b=c")!))
        #expect(throws: EncodingError.self) { try CRMJSONEncoder().encode(Empty()) }
    }

    /// Texts the fast path reads, and what both decoders make of them.
    @Test("plain JSON is read without Foundation, to the values Foundation reads")
    func plainDecoding() throws {
        let texts = [
            #" { "a" : [ 1 , -2500.25 , true , false , null , "x\n\u0041\/\"\\" ] , "b" : { } , "c" : [ ] } "#,
            #"{"dup":1,"dup":2}"#,
            #""Оценка ✓ 😀""#,
            "-0", "0.5", "100", "123456789012345678",
        ]
        for text in texts {
            let fast = try #require(CRMJSONDecoder().decodeWithoutFoundation(JSONValue.self, from: Array(text.utf8)), "\(text)")
            #expect(fast == (try CRMJSON.makeDecoder().decode(JSONValue.self, from: Data(text.utf8))), "\(text)")
        }
        let counts = try #require(CRMJSONDecoder().decodeWithoutFoundation(Counts.self, from: Array(#"{"small":-128,"big":18446744073709551615,"id":"0B9A7C1E-2F4D-4E6A-8B3C-5D1E7F9A2C44","at":"2026-12-01T10:00:00+03:00","note":null}"#.utf8)))
        #expect(counts.small == -128 && counts.big == .max && counts.note == nil)
        #expect(counts.id == UUID(uuidString: "0b9a7c1e-2f4d-4e6a-8b3c-5d1e7f9a2c44"))
        #expect(counts.at == Date(timeIntervalSince1970: 1_796_108_400))
        #expect(try CRMJSONDecoder().decode([Int?].self, from: "[1,null,3]") == [1, nil, 3])
    }

    /// Texts the fast path leaves to Foundation: Foundation's answer, value or error, is the one.
    @Test("anything unusual is decided by Foundation: same value or same error")
    func unusualDecoding() throws {
        let texts: [String] = [
            #"{"small":1.0,"big":1e2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z"}"#,  // integers with fraction/exponent
            #"{"small":1,"big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z","x":01}"#,  // leading zero, unread
            #"{"small":1,"big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z","x":"\ud800"}"#,  // lone surrogate, unread
            #"{"small":1,"big":-2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z"}"#,  // negative unsigned
            #"{"small":999,"big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z"}"#,  // Int8 overflow
            #"{"small":1,"big":2,"id":"not-an-id","at":"2026-12-01T10:00:00Z"}"#,
            #"{"small":1,"big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"yesterday"}"#,
            #"{"small":1,"big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11"}"#,
            #"{"small":"1","big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z"}"#,
            #"{"small":1,"big":2,"id":null,"at":"2026-12-01T10:00:00Z"}"#,
            #"{"small":1,"big":2,"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","at":"2026-12-01T10:00:00Z"} x"#,  // trailing text
            #"{"small":1,"#, "", "nul", "[1,]", "{\"a\":1}\u{0}",
            String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
        ]
        for text in texts {
            let fast = Result { try CRMJSONDecoder().decode(Counts.self, from: text) }
            let foundation = Result { try CRMJSON.makeDecoder().decode(Counts.self, from: Data(text.utf8)) }
            #expect(String(describing: fast) == String(describing: foundation), "\(text.prefix(80))")
        }
        let invalidUTF8: [UInt8] = Array(#"{"note":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(CRMJSONDecoder().decodeWithoutFoundation([String: String].self, from: invalidUTF8) == nil)
        #expect(String(describing: Result { try CRMJSONDecoder().decode([String: String].self, from: invalidUTF8) })
            == String(describing: Result { try CRMJSON.makeDecoder().decode([String: String].self, from: Data(invalidUTF8)) }))
    }

    @Test("ids the fast reader takes are the ids UUID(uuidString:) reads; the forms it refuses are read by Foundation")
    func ids() throws {
        let texts = [
            "6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11", "0B9A7C1E-2F4D-4E6A-8B3C-5D1E7F9A2C44", "00000000-0000-0000-0000-000000000000",
            "6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f1", "6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f111", "6f1c2f0e08d3b-4c1a-9e55-2b7d4a1c0f11",
            "6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f1g", "", "{6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11}",
            // What sscanf's %2hhx also takes: signs, spaces, 0x.
            "+f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11", "-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1", " f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11",
            "0x1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11",
        ]
        for text in texts {
            if let id = UUID(text: text) { #expect(id == UUID(uuidString: text), "\(text)") }
            let json = "[\"\(text)\"]"
            #expect(String(describing: Result { try CRMJSONDecoder().decode([UUID].self, from: json) })
                == String(describing: Result { try CRMJSON.makeDecoder().decode([UUID].self, from: Data(json.utf8)) }), "\(text)")
        }
        for _ in 0..<200 {
            let id = UUID()
            #expect(UUID(text: id.uuidString) == id && UUID(text: id.lowercasedText) == id)
        }
    }
}

extension JSONCodingTests {
    /// Equal values, or errors that read the same. (Values are compared with `==`: two equal
    /// dictionaries may print their members in different orders.)
    private func sameResults<T: Decodable & Equatable>(_ type: T.Type, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let fast = Result { try CRMJSONDecoder().decode(type, from: text) }
        let foundation = Result { try CRMJSON.makeDecoder().decode(type, from: Data(text.utf8)) }
        switch (fast, foundation) {
        case (.success(let fast), .success(let foundation)):
            #expect(fast == foundation, "\(text.prefix(80))", sourceLocation: sourceLocation)
        case (.failure(let fast), .failure(let foundation)):
            #expect(String(describing: fast) == String(describing: foundation), "\(text.prefix(80))", sourceLocation: sourceLocation)
        default:
            Issue.record("\(text.prefix(80)): CRM \(fast), Foundation \(foundation)", sourceLocation: sourceLocation)
        }
    }

    @Test("numbers that round to zero, or beyond a Double, are Foundation's to refuse")
    func extremeNumbers() {
        for text in ["[1e-400]", "[-1e-400]", "[0e-400]", "[4.9e-324]", "[0.0]", "[-0]", "[1e400]", "[0.000e5]", "[10e-400]", "[-2.5e3]", "[1E+2]"] {
            sameResults([Double].self, text)
            sameResults(JSONValue.self, text)
        }
        #expect(CRMJSONDecoder().decodeWithoutFoundation(JSONValue.self, from: Array("1e-400".utf8)) == nil)
    }

    @Test("keys match as Swift strings do: canonically equal spellings are one key, the first one wins")
    func canonicalKeys() {
        sameResults([String: Int].self, "{\"\u{E9}\":1,\"e\u{301}\":2}")
        sameResults(JSONValue.self, "{\"\u{E9}\":1,\"e\u{301}\":2,\"x\":{\"\u{E9}\":3}}")
        sameResults(Kind.self, "{\"\u{212A}ind\":\"kelvin\"}")
        sameResults(Kind.self, #"{"\u004bind":"escaped"}"#)
        sameResults(Kind.self, #"{"Kind":"plain","Kind":"second"}"#)
    }

    @Test("an element read another way after a failed read is the same element, as with Foundation")
    func lossyArrays() {
        sameResults(LossyInts.self, #"[1,"a",2,null,3.5,4]"#)
        sameResults([Int?].self, "[1,null,2]")
        sameResults(LossyInts.self, "[]")
    }

    @Test("nesting at Foundation's limits, and objects too big to scan, are read and written as Foundation does")
    func limits() throws {
        for depth in [510, 511, 512, 513, 514] {
            let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            sameResults(JSONValue.self, text)
            var value = JSONValue.null
            for _ in 0..<depth { value = .array([value]) }
            let fast = Result { try CRMJSONEncoder().encodeText(value) }
            let foundation = Result { String(decoding: try CRMJSON.makeEncoder().encode(value), as: UTF8.self) }
            #expect(String(describing: fast) == String(describing: foundation), "depth \(depth)")
        }
        let scanned = Dictionary(uniqueKeysWithValues: (0..<JSONTapeDecoder.largestScannedObject).map { ("k\($0)", $0) })
        let large = Dictionary(uniqueKeysWithValues: (0...JSONTapeDecoder.largestScannedObject).map { ("k\($0)", $0) })
        #expect(CRMJSONDecoder().decodeWithoutFoundation([String: Int].self, from: try CRMJSONEncoder().encode(scanned)) == scanned)
        #expect(CRMJSONDecoder().decodeWithoutFoundation([String: Int].self, from: try CRMJSONEncoder().encode(large)) == nil)
        #expect(try CRMJSONDecoder().decode([String: Int].self, from: CRMJSONEncoder().encode(large)) == large)
    }

    @Test("a nested container asked for twice under one key is one object, as with Foundation")
    func nestedTwice() throws {
        #expect(try fastText(NestedTwice()) == foundationText(NestedTwice()))
    }
}

private struct Kind: Decodable, Equatable {
    var kind: String?
    enum CodingKeys: String, CodingKey { case kind = "Kind" }
}

/// Reads what it can: an element that is not an integer is skipped.
private struct LossyInts: Decodable, Equatable {
    var values: [Int] = []
    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        while !container.isAtEnd {
            if let value = try? container.decode(Int.self) {
                values.append(value)
            } else {
                _ = try container.decode(JSONValue.self)
            }
        }
    }
}

private struct NestedTwice: Encodable {
    enum Keys: String, CodingKey { case a, b, c }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var first = container.nestedContainer(keyedBy: Keys.self, forKey: .a)
        try first.encode(1, forKey: .b)
        var second = container.nestedContainer(keyedBy: Keys.self, forKey: .a)
        try second.encode(2, forKey: .c)
        var list = container.nestedUnkeyedContainer(forKey: .b)
        try list.encode(1)
        var again = container.nestedUnkeyedContainer(forKey: .b)
        try again.encode(2)
    }
}

private struct Twice: Encodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: JSONCodingKey.self)
        try container.encode(1, forKey: JSONCodingKey("a"))
        try container.encode(1, forKey: JSONCodingKey("b"))
        try container.encode(2, forKey: JSONCodingKey("a"))
    }
}

private struct Widths: Encodable {
    var int8 = Int8.min, int16 = Int16.max, int32 = Int32.min, int64 = Int64.max, int = Int.min
    var uint8 = UInt8.max, uint16 = UInt16.max, uint32 = UInt32.max, uint64 = UInt64.max, uint = UInt(7)
    var optional: Int32? = 5
}

private struct Nested: Encodable {
    enum Keys: String, CodingKey { case outer, list, after, inner }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        var outer = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
        var list = container.nestedUnkeyedContainer(forKey: .list)
        try container.encode("after", forKey: .after)
        try outer.encode(true, forKey: .inner)
        try list.encode(1)
        var element = list.nestedContainer(keyedBy: Keys.self)
        try list.encodeNil()
        try element.encode([1, 2], forKey: .inner)
    }
}

private struct WithSuper: Encodable {
    enum Keys: String, CodingKey { case own, parent }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(1, forKey: .own)
        try Nested().encode(to: container.superEncoder())
        var single = container.superEncoder(forKey: .parent).singleValueContainer()
        try single.encode("parent")
    }
}

private struct Empty: Encodable {
    func encode(to encoder: any Encoder) throws {}
}

private struct Holder: Encodable {
    var empty = Empty()
    var list = [Empty()]
    var none: String? = nil
    var some: Bool? = false
}

private struct Counts: Decodable, Equatable {
    var small: Int8
    var big: UInt64
    var id: UUID
    var at: Date
    var note: String?
}
